#!/usr/bin/env python3
"""Launch rdsenc's AWS emulator: moto[server] plus the patches in ``rdsemu``.

    python acceptance-tests/emulator/rdsenc_emulator.py --host 127.0.0.1 --port 5000 \
        [--time-scale 0.001] [--data-plane]

Real seconds = AWS seconds x time scale (1 = real time). Prints one line
``rdsenc-emulator listening on http://HOST:PORT`` once the socket is bound.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to bind (0 = any free port)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="real seconds per AWS second (1 = real time, 0.001 = 1000x faster)",
    )
    parser.add_argument(
        "--data-plane",
        action="store_true",
        help="run a real MariaDB/PostgreSQL server behind every DB instance (see README, Data plane)",
    )
    args = parser.parse_args(argv)
    if not args.time_scale > 0:
        parser.error("--time-scale must be > 0")
    return args


def main(argv: list[str] | None = None) -> None:
    """Patch moto, wrap its dispatcher, and serve until SIGINT/SIGTERM."""
    args = parse_args(argv)
    # Credentials/region defaults so moto never looks for real ones.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    import rdsemu
    from rdsemu.control import EmulatorApp
    from rdsemu.state import STATE

    if args.data_plane:
        from rdsemu.dataplane import DATAPLANE

        DATAPLANE.enable()
    rdsemu.install()
    if args.data_plane:
        from rdsemu.dataplane import dns, net

        net.start()
        dns.start()  # after rdsemu.install(): it wraps the Route 53 patch
    STATE.launch_time_scale = args.time_scale
    STATE.set_time_scale(args.time_scale)

    moto_app = DomainDispatcherApplication(create_backend_app)
    app = EmulatorApp(moto_app)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    os.environ["MOTO_PORT"] = str(server.port)

    def stop(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"rdsenc-emulator listening on http://{args.host}:{server.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if args.data_plane:
            from rdsemu.dataplane import dns, net

            if net.NETWORK is not None:
                net.NETWORK.close()
            if dns.DNS is not None:
                dns.DNS.close()
            DATAPLANE.shutdown()


if __name__ == "__main__":
    main()
