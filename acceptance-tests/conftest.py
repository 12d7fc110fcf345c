"""Fixtures of the rdsenc acceptance-test rig (see README.md in this directory).

- `tf`: a `rig.Terraform` in a fresh working directory, wired to the provider mirror and the emulator;
  parametrized over every Terraform found (ids like `tf1.11.4`, `tf1.15.5`; `RDSENC_TF` forces one).
- `tf_factory(name, endpoint_env=True)`: more working directories in the same test.
- `emulator`: the running emulator, reset before the test (`.url`, `.client`, `.log_tail()`).
- `aws`: boto3 clients bound to the emulator (`aws.rds`, `aws.kms`, `aws.dms`, ... plus seed helpers).
- `provider_install`: the provider built once per session and installed into a filesystem mirror.

Nothing here is autouse: the emulator's own tests under emulator/tests share this conftest and pay
for nothing they do not ask for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rig import Terraform, TerraformInstall
from rig import emulator as emulator_mod
from rig import provider as provider_mod
from rig.aws import Aws
from rig.discovery import DiscoveryError, discover
from rig.environment import terraform_env

_INSTALLS_KEY = pytest.StashKey[list[TerraformInstall] | DiscoveryError]()
_EMULATOR_KEY = pytest.StashKey[str]()


def _installs(config: pytest.Config) -> list[TerraformInstall] | DiscoveryError:
    if _INSTALLS_KEY not in config.stash:
        try:
            config.stash[_INSTALLS_KEY] = discover()
        except DiscoveryError as exc:
            config.stash[_INSTALLS_KEY] = exc
    return config.stash[_INSTALLS_KEY]


def pytest_report_header(config: pytest.Config) -> list[str]:
    """One header line per Terraform the session runs against, or why there is none."""
    installs = _installs(config)
    if isinstance(installs, DiscoveryError):
        return [f"rdsenc rig: NO TERRAFORM: {installs}"]
    return [f"rdsenc rig: {tf.describe()}" for tf in installs]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Name the Terraforms and the emulator the session ran against."""
    installs = config.stash.get(_INSTALLS_KEY, None)
    if isinstance(installs, list) and installs:
        used = ", ".join(tf.describe() for tf in installs)
        terminalreporter.write_line(f"rdsenc rig: ran against {used}")
    if _EMULATOR_KEY in config.stash:
        terminalreporter.write_line(f"rdsenc rig: emulator {config.stash[_EMULATOR_KEY]}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `tf_install` over every Terraform found (or over the discovery error)."""
    if "tf_install" not in metafunc.fixturenames:
        return
    installs = _installs(metafunc.config)
    if isinstance(installs, DiscoveryError):
        # One parameter carrying the error: every Terraform test then fails loudly, never skips.
        metafunc.parametrize("tf_install", [installs], ids=["no-terraform"], scope="session")
    else:
        metafunc.parametrize("tf_install", installs, ids=[tf.id for tf in installs], scope="session")


@pytest.fixture(scope="session")
def tf_install(request: pytest.FixtureRequest) -> TerraformInstall:
    """The Terraform of this parametrization (see pytest_generate_tests)."""
    value = request.param
    if isinstance(value, DiscoveryError):
        pytest.fail(str(value), pytrace=False)
    return value


@pytest.fixture(scope="session")
def provider_install(tmp_path_factory: pytest.TempPathFactory) -> provider_mod.ProviderInstall:
    """Build the provider once (or take RDSENC_PROVIDER_BIN) and install it into a mirror."""
    try:
        binary = provider_mod.build()
    except provider_mod.ProviderBuildError as exc:
        pytest.fail(str(exc), pytrace=False)
    return provider_mod.install(binary, tmp_path_factory.mktemp("provider"))


@pytest.fixture(scope="session")
def emulator_process(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[emulator_mod.Emulator]:
    """One emulator process per session (time scale from RDSENC_EMULATOR_TIME_SCALE, default 0.001)."""
    scale = float(os.environ.get("RDSENC_EMULATOR_TIME_SCALE", "0.001"))
    # The provider polls AWS at production pace unless told otherwise: scale its poll intervals
    # with the emulator's clock (a 10 s poll becomes 50 ms at 0.001), never below 1/1000.
    os.environ.setdefault("RDSENC_POLL_SCALE", repr(min(1.0, max(0.001, scale * 5))))
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    try:
        running = emulator_mod.start(log, time_scale=scale)
    except emulator_mod.EmulatorError as exc:
        pytest.fail(str(exc), pytrace=False)
    request.config.stash[_EMULATOR_KEY] = f"{emulator_mod.LAUNCHER}, time scale {scale}"
    yield running
    running.stop()


@pytest.fixture
def emulator(emulator_process: emulator_mod.Emulator) -> emulator_mod.Emulator:
    """The session's emulator, emptied before this test."""
    emulator_process.reset()
    return emulator_process


@pytest.fixture
def aws(emulator: emulator_mod.Emulator) -> Aws:
    """boto3 clients bound to the emulator."""
    return Aws(emulator.url)


@pytest.fixture
def tf_factory(
    tf_install: TerraformInstall,
    provider_install: provider_mod.ProviderInstall,
    emulator: emulator_mod.Emulator,
    tmp_path: Path,
) -> Callable[..., Terraform]:
    """`tf_factory(name, endpoint_env=True)` -> a Terraform in `<tmp>/<name>`.

    With `endpoint_env=False` the environment has no AWS_ENDPOINT_URL: the configuration must reach
    the emulator through the provider's `endpoints {}` block (its URL is `emulator.url`).
    """

    def make(name: str, endpoint_env: bool = True) -> Terraform:
        workdir = tmp_path / name
        workdir.mkdir(parents=True, exist_ok=False)
        env = terraform_env(
            provider_install.cli_config,
            emulator.url if endpoint_env else None,
            workdir,
            tmp_path / f"{name}-aws-home",
        )
        return Terraform(tf_install, workdir, env)

    return make


@pytest.fixture
def tf(tf_factory: Callable[..., Terraform], request: pytest.FixtureRequest) -> Iterator[Terraform]:
    """A Terraform in a fresh working directory, the emulator reachable through AWS_ENDPOINT_URL."""
    runner = tf_factory("work")
    yield runner
    report = getattr(request.node, "rig_call_report", None)
    if report is not None and report.failed and runner.history:
        print(f"rdsenc rig: Terraform {runner.version} commands in {runner.workdir}:\n{runner.transcript()}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each test's call report on its item, for the `tf` fixture's transcript on failure."""
    report = yield
    if report.when == "call":
        item.rig_call_report = report  # type: ignore[attr-defined]
    return report
