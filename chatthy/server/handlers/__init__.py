"""Request handlers, one module per family; importing this registers them all."""

from chatthy.server.handlers import ask, chats, session  # noqa: F401
from chatthy.server.handlers import doctor  # noqa: F401,E402
from chatthy.server.handlers import sources, workspace  # noqa: F401,E402
from chatthy.server.handlers import chat_edit, models, personas, profiles, transfer, usage  # noqa: F401,E402
from chatthy.server.handlers import live  # noqa: F401,E402
from chatthy.server.handlers import vdb  # noqa: F401,E402
from chatthy.server.handlers import tools  # noqa: F401,E402
from chatthy.server.handlers import workflows  # noqa: F401,E402
