"""Runs one Python handler function for orch, then exits.

orch starts `python3 orch_bridge.py` for each call of a tool whose handler is a Python
module (`handler: greet.hello` with `handlers/greet.py`). The protocol is JSON, one object
per line: orch writes the call (then answers to `call_tool` requests) on stdin; this
bridge writes requests, log lines and the outcome on the stdout it was started with.
Whatever the handler prints goes to stderr, so it can never corrupt the protocol.

The function gets the tool's validated arguments as keyword arguments (and the context
as `ctx` when it declares a parameter of that name); it may be sync or async. Its return
value must be JSON-serialisable.
"""

import asyncio
import importlib.util
import inspect
import json
import os
import sys
import threading
import signal
import traceback

# The protocol keeps the real stdout; fd 1 becomes stderr for the handler and anything it runs.
_protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr
_input = sys.stdin
sys.stdin = open(os.devnull, "r", encoding="utf-8")

_write_lock = threading.Lock()


def _send(message):
    line = json.dumps(message, ensure_ascii=False, allow_nan=False)
    with _write_lock:
        _protocol.write(line + "\n")
        _protocol.flush()


class ToolCallError(Exception):
    """A tool called through `ctx.call_tool` failed; `code` is orch's error code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class _Pending:
    def __init__(self):
        self.done = threading.Event()
        self.answer = None


_pending = {}
_pending_lock = threading.Lock()
_next_id = [0]
_closed = threading.Event()


class Logger:
    """Messages to orch's log (stderr), like a JS handler's `ctx.logger`."""

    def _log(self, level, message):
        _send({"type": "log", "level": level, "message": str(message)})

    def debug(self, message):
        self._log("debug", message)

    def info(self, message):
        self._log("info", message)

    def warning(self, message):
        self._log("warn", message)

    warn = warning

    def error(self, message):
        self._log("error", message)


class Context:
    """What a handler may use besides its arguments (the `ctx` of a JS handler)."""

    def __init__(self, call):
        self.tool = call["tool"]
        self.project_dir = call["project_dir"]
        self.state_dir = call["state_dir"]
        self.logger = Logger()

    def log(self, message):
        self.logger.info(message)

    def call_tool(self, name, args=None):
        """Calls a tool declared in gantz.yaml, or `server.tool` of an MCP server; returns its result as data."""
        if _closed.is_set():
            raise ToolCallError("ORCH_CANCELLED", "the call was cancelled")
        with _pending_lock:
            _next_id[0] += 1
            request_id = _next_id[0]
            pending = _pending[request_id] = _Pending()
        _send({"type": "call_tool", "id": request_id, "name": name, "args": args or {}})
        pending.done.wait()
        answer = pending.answer or {"ok": False, "error": {"code": "ORCH_CANCELLED", "message": "the call was cancelled"}}
        if answer.get("ok"):
            return answer.get("value")
        error = answer.get("error") or {}
        raise ToolCallError(error.get("code", "ORCH_TOOL_FAILED"), error.get("message", "the tool failed"))

    async def acall_tool(self, name, args=None):
        """`call_tool` for async handlers: several may run at once."""
        return await asyncio.get_running_loop().run_in_executor(None, self.call_tool, name, args)


_context = None


def current_context():
    """The context of the call being run (for helpers that are not given `ctx`)."""
    return _context


def _read_answers():
    for line in _input:
        message = json.loads(line)
        if message.get("type") == "tool_result":
            with _pending_lock:
                pending = _pending.pop(message.get("id"), None)
            if pending:
                pending.answer = message
                pending.done.set()
    # End of input: orch is stopping this call. Waiting tool calls fail, and the handler
    # is interrupted so that its `finally` blocks run before orch's SIGTERM.
    _closed.set()
    with _pending_lock:
        for pending in _pending.values():
            pending.done.set()
        _pending.clear()
    # A real signal, so that a handler asleep in a system call wakes up too.
    os.kill(os.getpid(), signal.SIGINT)


_BRIDGE_FILE = os.path.abspath(__file__)


def _trace(err):
    """The traceback of `err` from the handler's own code on: the bridge's and importlib's frames left out."""
    frames = traceback.extract_tb(err.__traceback__)
    kept = [f for f in frames if os.path.abspath(f.filename) != _BRIDGE_FILE and not f.filename.startswith("<frozen importlib")]
    lines = ["Traceback (most recent call last):\n"] if kept else []
    lines += traceback.StackSummary.from_list(kept).format()
    lines += traceback.format_exception_only(type(err), err)
    return "".join(lines)


def _fail(kind, message, error_type=None, trace=None):
    _send({"type": "error", "kind": kind, "message": message, "error_type": error_type, "traceback": trace})


def _load(call):
    for folder in (os.path.dirname(call["module_file"]), call["config_dir"]):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    # The Gantz shim (`from gantz import MCPClient`) comes last: an installed package wins.
    sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "shims"))
    spec = importlib.util.spec_from_file_location(call["module"], call["module_file"])
    module = importlib.util.module_from_spec(spec)
    sys.modules[call["module"]] = module
    spec.loader.exec_module(module)
    return module


def _wants_ctx(fn):
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "ctx" in parameters


def main():
    global _context
    # Handlers and the Gantz shim import this module by name: they must get this very one.
    sys.modules.setdefault("orch_bridge", sys.modules[__name__])
    call = json.loads(_input.readline())
    threading.Thread(target=_read_answers, daemon=True).start()
    _context = Context(call)
    try:
        module = _load(call)
    except BaseException as err:  # a syntax error or a failing import is the module's, not the call's
        _fail("load", str(err) or type(err).__name__, type(err).__name__, _trace(err))
        return
    fn = getattr(module, call["function"], None)
    if not callable(fn):
        _fail("export", "%s has no function %s" % (os.path.basename(call["module_file"]), call["function"]))
        return
    kwargs = dict(call["params"])
    if _wants_ctx(fn) and "ctx" not in kwargs:
        kwargs["ctx"] = _context
    try:
        result = fn(**kwargs)
        if inspect.isawaitable(result):
            async def wait():
                return await result

            result = asyncio.run(wait())
    except KeyboardInterrupt:
        _fail("cancelled", "the call was cancelled")
        return
    except BaseException as err:
        _fail("exception", str(err), type(err).__name__, _trace(err))
        return
    try:
        _send({"type": "result", "value": result})
    except (TypeError, ValueError) as err:
        _fail("serialise", str(err), type(err).__name__)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
    _protocol.flush()
    # Non-daemon threads a handler left running must not keep the call open.
    os._exit(0)
