"""The real databases behind emulated RDS instances (`--data-plane`), reached as an application
reaches them: endpoint names resolved through the emulator's DNS, dialled through the fronts.

Shared by `demo.py` and the ledger acceptance tests: opening the security group to the
application and DMS, seeding the application's tables and the DMS user, counting rows and
reading the ledger's tables for the checker.
"""

from __future__ import annotations

from typing import Any

from ledger import DnsResolver, connect, create_tables, engine_of, read_contents
from ledger.db import Contents
from rig.aws import Aws
from rig.seeds import address

#: The rig's test-only master password (`Aws.create_mysql_instance`).
MASTER_PASSWORD = "rig-Secret-Pa55word"
#: The application's database.
APP_DB = "app"
#: The engine's port on the instance's endpoint.
PORTS = {"mysql": 3306, "postgres": 5432}


class Data:
    """The databases of one emulator, for one engine (`mysql`: MySQL/MariaDB, `postgres`)."""

    def __init__(self, url: str, aws: Aws, engine: str = "mysql", master_user: str = "admin") -> None:
        self.aws = aws
        self.engine = engine_of(engine)
        self.port = PORTS[self.engine]
        self.master_user = master_user
        self.resolver = DnsResolver.from_emulator(url)

    def conn(self, ident: str, database: str = APP_DB) -> Any:
        """A connection to instance `ident` as the application makes it (its name through DNS)."""
        host = self.resolver.resolve(address(self.aws, ident))
        if self.engine == "postgres" and not database:
            database = "postgres"
        return connect(self.engine, host, self.port, self.master_user, MASTER_PASSWORD, database)

    def admit_clients(self, group_id: str) -> None:
        """The application (127.0.0.1) and every member of the group (DMS, the restored copy) may
        connect on the engine's port: without a rule AWS admits nothing.
        """
        self.aws.ec2.authorize_security_group_ingress(
            GroupId=group_id,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": self.port,
                    "ToPort": self.port,
                    "IpRanges": [{"CidrIp": "127.0.0.1/32"}],
                    "UserIdGroupPairs": [{"GroupId": group_id}],
                }
            ],
        )

    def create_database(self, ident: str, dms_password: str | None) -> None:
        """The application's database and, with `dms_password`, the MySQL user `dms` with what
        DMS needs on a MySQL source and target (DMS User Guide, "Using a MySQL-compatible
        database as a source/target"): read, write, DDL and the binlog.
        """
        conn = self.conn(ident, database="")
        try:
            if self.engine == "postgres":
                conn.autocommit = True  # CREATE DATABASE cannot run in a transaction block
                with conn.cursor() as cur:
                    cur.execute(f"CREATE DATABASE {APP_DB}")
                return
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE IF NOT EXISTS {APP_DB}")
                if dms_password is not None:
                    cur.execute("CREATE USER IF NOT EXISTS 'dms'@'%%' IDENTIFIED BY %s", (dms_password,))
                    cur.execute(
                        "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, "
                        "CREATE TEMPORARY TABLES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'dms'@'%'"
                    )
            conn.commit()
        finally:
            conn.close()

    def execute(self, ident: str, statements: list[str], rows: dict[str, list[tuple[Any, ...]]] | None = None) -> None:
        """Run `statements`, then insert `rows` (table -> tuples) in the application's database,
        one transaction.
        """
        conn = self.conn(ident)
        try:
            with conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
                for table, values in (rows or {}).items():
                    if values:
                        marks = ", ".join(["%s"] * len(values[0]))
                        cur.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
            conn.commit()
        finally:
            conn.close()

    def create_ledger_tables(self, ident: str) -> None:
        """The ledger's tables, before replication starts (DMS moves them from the full load on)."""
        conn = self.conn(ident)
        try:
            create_tables(conn, self.engine)
        finally:
            conn.close()

    def counts(self, ident: str, tables: tuple[str, ...]) -> dict[str, int]:
        """Rows per table of the application's database."""
        conn = self.conn(ident)
        try:
            out = {}
            with conn.cursor() as cur:
                for table in tables:
                    cur.execute(f"SELECT COUNT(*) FROM {table}")
                    out[table] = int(cur.fetchone()[0])
            conn.commit()
            return out
        finally:
            conn.close()

    def contents(self, ident: str, label: str) -> Contents:
        """The ledger's tables on instance `ident`, for the checker."""
        conn = self.conn(ident)
        try:
            return read_contents(conn, label)
        finally:
            conn.close()
