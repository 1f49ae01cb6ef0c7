"""Tools the model may call, workflows' tool steps, and image attachments.

Cheap to import, and safe on the client side: ``settings`` (the ``[tools]``,
``[mcp.NAME]`` and ``[images]`` config tables) and ``image_files`` (checking an
image by its magic bytes) use only the standard library. The rest is daemon
side and imported where it is used:

    registry      Tool, ToolSpec, ToolResult, ToolRegistry (built-ins + user + MCP)
    builtins      search_knowledge, read_workspace_file, fetch_url, calculator, current_time
    calculator    a safe arithmetic evaluator over the ast (never eval)
    user_tools    commands from config, run without a shell
    mcp_client    MCP tool servers over stdio, started once and kept alive
    storage       the tool_calls and attachments tables
"""
