"""A real CUPS server with cups-pdf queues for printing tests, in a container without systemd.

`ensure_cupsd()` starts the `cupsd` binary if the scheduler is not answering (root needed);
`add_pdf_queue()` adds a cups-pdf queue with the PPD `lpinfo -m` offers; `find_output()` waits
for the PDF cups-pdf writes (its folder comes from /etc/cups/cups-pdf.conf). The fixtures
`cups_server` and `pdf_queue` wrap them; tests skip with the reason when CUPS cannot run here.
"""
from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from tests.support.waiting import wait_until

CUPS_PDF_CONF = Path("/etc/cups/cups-pdf.conf")
FALLBACK_MODEL = "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd"


class CupsUnavailable(RuntimeError):
    """CUPS cannot be brought up here; the message says why (for pytest.skip)."""


def _run(*args: str, check: bool = True, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=check)


def scheduler_running() -> bool:
    if shutil.which("lpstat") is None:
        return False
    result = _run("lpstat", "-r", check=False)
    return result.returncode == 0 and "is running" in result.stdout and "not" not in result.stdout


def ensure_cupsd(timeout: float = 20) -> None:
    """Start cupsd (it daemonises) unless the scheduler already answers."""
    if scheduler_running():
        return
    binary = shutil.which("cupsd") or ("/usr/sbin/cupsd" if Path("/usr/sbin/cupsd").exists() else None)
    if binary is None:
        raise CupsUnavailable("cupsd is not installed (apt-get install cups printer-driver-cups-pdf)")
    if os.geteuid() != 0:
        raise CupsUnavailable("cupsd is not running and starting it needs root")
    Path("/run/cups").mkdir(parents=True, exist_ok=True)
    started = _run(binary, check=False)
    if started.returncode != 0:
        raise CupsUnavailable(f"cupsd failed to start: {started.stderr.strip() or started.stdout.strip()}")
    wait_until(scheduler_running, timeout, what="the CUPS scheduler")


def pdf_model() -> str:
    """The cups-pdf PPD as CUPS names it (`lpinfo -m | grep -i pdf`), preferring CUPS-PDF_opt."""
    result = _run("lpinfo", "-m", check=False, timeout=60)
    models = [line.split(" ", 1)[0] for line in result.stdout.splitlines() if "cups-pdf" in line.lower()]
    for preferred in ("CUPS-PDF_opt.ppd", "CUPS-PDF_noopt.ppd"):
        for model in models:
            if model.endswith(preferred):
                return model
    if models:
        return models[0]
    if Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd").exists():
        return FALLBACK_MODEL
    raise CupsUnavailable("no cups-pdf model in `lpinfo -m` (apt-get install printer-driver-cups-pdf)")


def add_pdf_queue(name: str) -> str:
    """Create (or reset) an enabled, accepting cups-pdf queue called `name`."""
    result = _run("lpadmin", "-p", name, "-E", "-v", "cups-pdf:/", "-m", pdf_model(), check=False)
    if result.returncode != 0:
        raise CupsUnavailable(f"lpadmin could not add queue {name}: {result.stderr.strip()}")
    enable(name)
    return name


def enable(name: str) -> None:
    _run("cupsenable", name)
    _run("cupsaccept", name)


def disable(name: str, reason: str = "tests: queue stopped") -> None:
    _run("cupsdisable", "-r", reason, name)


def remove_queue(name: str) -> None:
    _run("lpadmin", "-x", name, check=False)


def output_dirs() -> list[Path]:
    """Folders cups-pdf may write to: its `Out` setting for this user, and the anonymous folder."""
    home = pwd.getpwuid(os.geteuid()).pw_dir
    user = pwd.getpwuid(os.geteuid()).pw_name
    out, anon = "/var/spool/cups-pdf/${USER}", "/var/spool/cups-pdf/ANONYMOUS"
    if CUPS_PDF_CONF.exists():
        for line in CUPS_PDF_CONF.read_text(errors="replace").splitlines():
            match = re.match(r"^\s*(Out|AnonDirName)\s+(\S+)", line)
            if match and match.group(1) == "Out":
                out = match.group(2)
            elif match:
                anon = match.group(2)
    out = out.replace("${HOME}", home).replace("${USER}", user)
    return [Path(out), Path(anon)]


def find_output(job_id: int, timeout: float = 60, newer_than: float | None = None) -> Path:
    """The PDF cups-pdf wrote for `job_id` (its name ends in job_<id>.pdf), once fully written.

    `newer_than` (epoch seconds, default: a minute before the call) skips files left by an earlier
    CUPS whose job numbers started again.
    """
    pattern = re.compile(rf"job_{job_id}\.pdf$")
    since = (time.time() - 60) if newer_than is None else newer_than

    def found():
        for folder in output_dirs():
            if folder.is_dir():
                for path in folder.iterdir():
                    stat = path.stat()
                    if pattern.search(path.name) and stat.st_size > 0 and stat.st_mtime >= since - 1:
                        return path
        return None

    return wait_until(found, timeout, what=f"cups-pdf output of job {job_id} in {output_dirs()}")


@pytest.fixture(scope="session")
def cups_server():
    """A running CUPS scheduler (started here if needed), or the test is skipped with the reason."""
    try:
        ensure_cupsd()
    except CupsUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def pdf_queue(cups_server):
    """An enabled cups-pdf queue, "tdp-pdf"; removed after the session."""
    try:
        name = add_pdf_queue("tdp-pdf")
    except CupsUnavailable as exc:
        pytest.skip(str(exc))
    yield name
    remove_queue(name)
