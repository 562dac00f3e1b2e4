"""The ``preflight`` command installed by the wheel: the command line, run by the
extension module (``python -m preflight ...`` works too)."""

import signal
import sys


def main() -> None:
    from . import _native

    # The command runs with the interpreter's lock released; let Ctrl-C stop it as it
    # stops the native binary, instead of waiting for Python to look at the signal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(_native.main(["preflight", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
