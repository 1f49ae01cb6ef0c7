"""A safe arithmetic evaluator: the expression's syntax tree is walked, never ``eval``-ed.

Only numbers, the four operations, ``//``, ``%``, powers (``**``, and ``^``
as a calculator would read it), unary signs, parentheses, a few constants and
the functions in ``FUNCTIONS`` are allowed; anything else (names, attributes,
subscripts, strings, comprehensions, lambdas) is refused by node type. Limits
keep a hostile expression from using time or memory: its length, its node
count, its nesting, and the size of integers it may build (``9**9**9`` is
refused before it is computed, not after).
"""

from __future__ import annotations

import ast
import math
import operator

MAX_LENGTH = 1000
MAX_NODES = 200
MAX_DEPTH = 40
MAX_INT_BITS = 10_000  # about 3,000 decimal digits
MAX_FACTORIAL = 1000


class CalcError(ValueError):
    """The expression is not allowed, or cannot be computed; the message says why."""


def _checked_int(value: int) -> int:
    if value.bit_length() > MAX_INT_BITS:
        raise CalcError(f"result too large (more than {MAX_INT_BITS:,} bits)")
    return value


def _pow(base, exp):
    if isinstance(base, int) and isinstance(exp, int) and exp >= 0:
        # The fewest bits the result can have: refuse only what is surely too big
        # (the result is checked again once computed).
        bits = (abs(base).bit_length() - 1) * exp + 1 if abs(base) > 1 else 1
        if bits > MAX_INT_BITS:
            raise CalcError(f"result too large (about {bits:,} bits; the limit is {MAX_INT_BITS:,})")
        return base ** exp
    if base == 0 and exp < 0:
        raise CalcError("zero cannot be raised to a negative power")
    result = float(base) ** float(exp)
    if isinstance(result, complex):
        raise CalcError("the result is a complex number")
    return result


def _mul(a, b):
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
        raise CalcError(f"result too large (more than {MAX_INT_BITS:,} bits)")
    return a * b


def _div(a, b):
    if b == 0:
        raise CalcError("division by zero")
    return a / b


def _floordiv(a, b):
    if b == 0:
        raise CalcError("division by zero")
    return a // b


def _mod(a, b):
    if b == 0:
        raise CalcError("modulo by zero")
    return a % b


_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: _mul, ast.Div: _div,
    ast.FloorDiv: _floordiv, ast.Mod: _mod, ast.Pow: _pow, ast.BitXor: _pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def _factorial(n):
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if not isinstance(n, int) or n < 0:
        raise CalcError("factorial needs a whole number ≥ 0")
    if n > MAX_FACTORIAL:
        raise CalcError(f"factorial of more than {MAX_FACTORIAL} is too large")
    return math.factorial(n)


def _round(x, digits=0):
    if not isinstance(digits, int) or abs(digits) > 100:
        raise CalcError("round's digits must be a whole number between -100 and 100")
    return round(x, digits) if digits else round(x)


def _log(x, base=math.e):
    return math.log(x, base)


FUNCTIONS = {
    "sqrt": math.sqrt, "cbrt": lambda x: math.copysign(abs(x) ** (1 / 3), x), "exp": math.exp,
    "log": _log, "ln": math.log, "log10": math.log10, "log2": math.log2,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos,
    "atan": math.atan, "atan2": math.atan2, "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh,
    "degrees": math.degrees, "radians": math.radians, "hypot": math.hypot,
    "abs": abs, "round": _round, "floor": math.floor, "ceil": math.ceil,
    "min": min, "max": max, "factorial": _factorial, "gcd": math.gcd,
}
CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}


def evaluate(expression: str) -> int | float:
    """The value of ``expression``; CalcError for anything not allowed or not computable."""
    if not isinstance(expression, str) or not expression.strip():
        raise CalcError("empty expression")
    if len(expression) > MAX_LENGTH:
        raise CalcError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError) as exc:
        raise CalcError(f"not an arithmetic expression: {getattr(exc, 'msg', exc)}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalcError(f"expression has more than {MAX_NODES} parts")
    try:
        value = _eval(tree.body, 0)
    except CalcError:
        raise
    except ZeroDivisionError:
        raise CalcError("division by zero") from None
    except OverflowError:
        raise CalcError("the result overflows a floating-point number") from None
    except (ValueError, TypeError) as exc:
        raise CalcError(f"cannot compute: {exc}") from None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise CalcError("the result is not a finite number")
    return value


def _eval(node: ast.AST, depth: int):
    if depth > MAX_DEPTH:
        raise CalcError(f"expression nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise CalcError(f"only numbers are allowed, not {node.value!r}")
        return _checked_int(node.value) if isinstance(node.value, int) else node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, depth + 1), _eval(node.right, depth + 1)
        value = _BINARY[type(node.op)](left, right)
        return _checked_int(value) if isinstance(value, int) else value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand, depth + 1))
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise CalcError(f"unknown name {node.id!r} (constants: {', '.join(CONSTANTS)})")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise CalcError("only the calculator's own functions can be called, e.g. sqrt(2)")
        if node.func.id not in FUNCTIONS:
            raise CalcError(f"unknown function {node.func.id!r} (known: {', '.join(sorted(FUNCTIONS))})")
        if node.keywords:
            raise CalcError("functions take positional arguments only")
        if not node.args or len(node.args) > 10:
            raise CalcError(f"{node.func.id} needs 1 to 10 arguments")
        args = [_eval(arg, depth + 1) for arg in node.args]
        value = FUNCTIONS[node.func.id](*args)
        return _checked_int(value) if isinstance(value, int) else value
    raise CalcError(f"{type(node).__name__} is not allowed in an arithmetic expression")


def format_value(value: int | float) -> str:
    """Integers exactly; floats to 15 significant digits (0.1 + 0.2 → 0.3)."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".15g")
