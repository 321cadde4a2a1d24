"""`tdp backup now|list|verify [FILE]|restore FILE`: encrypted backups of the store (docs/appliance.md)."""
from __future__ import annotations

from pathlib import Path


def register(cli) -> None:
    group = cli.group("backup", help="take, list, verify and restore encrypted backups of the store")
    now = group.command("now", _now, json=True, help="take a backup now (USB stick if plugged in, else the folder)")
    now.add_argument("--kind", default="manual", choices=["manual", "nightly", "pre-upgrade"],
                     help="what the backup is for (nightly ones are rotated 7 daily + 4 weekly)")
    now.add_argument("--to", metavar="DIR", help="write into DIR instead of the stick or [backup] folder")
    group.command("list", _list, json=True, help="list the backups on the stick and in the folder, newest first")
    verify = group.command("verify", _verify, json=True, help="decrypt a backup and check it (default: the newest)")
    verify.add_argument("file", nargs="?", metavar="FILE")
    restore = group.command("restore", _restore, json=True,
                            help="replace the store with a backup (stop the services first)")
    restore.add_argument("file", metavar="FILE")


def _now(ctx):
    from kiosk.appliance.backup import take
    result = take(ctx.config, ctx.args.kind, destination=Path(ctx.args.to) if ctx.args.to else None)

    def text():
        lines = [f"backup OK ({result['integrity']}): {result['file']} ({result['bytes']} bytes, "
                 f"{result['destination']})",
                 "rows: " + ", ".join(f"{k} {v}" for k, v in result["counts"].items())]
        if result["key_created"]:
            lines.append(f"new backup key written to {result['key_file']}: print it for the group leader "
                         f"(`cat {result['key_file']}`); without it no backup can be restored")
        if result["removed"]:
            lines.append(f"rotation removed {len(result['removed'])} old backup(s)")
        return "\n".join(lines)
    ctx.emit(result, text)


def _list(ctx):
    from kiosk.appliance.backup_places import list_backups
    found = [b.as_dict() for b in list_backups(ctx.config)]
    ctx.emit({"backups": found}, lambda: "\n".join(
        f"{b['created']}  {b['kind']:<11} v{b['version']:<8} {b['bytes']:>10} B  {b['path']}" for b in found)
        or "no backups yet: `tdp backup now`")


def _verify(ctx):
    from kiosk.appliance.backup import verify
    result = verify(ctx.config, Path(ctx.args.file) if ctx.args.file else None)
    ctx.emit(result, lambda: f"backup OK: {result['file']} (taken {result['created']} on {result['kiosk']}, "
                             f"version {result['version']}); rows: "
                             + ", ".join(f"{k} {v}" for k, v in result["counts"].items()))


def _restore(ctx):
    from kiosk.appliance.backup import restore
    result = restore(ctx.config, Path(ctx.args.file))
    ctx.emit(result, lambda: f"restored {result['file']} (taken {result['created']}) into {result['store']}"
                             + (f"; the store before is kept as {result['previous']}" if result["previous"] else "")
                             + "\nrows: " + ", ".join(f"{k} {v}" for k, v in result["counts"].items()))
