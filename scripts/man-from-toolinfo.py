#!/usr/bin/env python3
"""Writes osfarm's man page (mdoc) from the argument parser's own description of the command line
(`osfarm --experimental-dump-help`, swift-argument-parser's ToolInfo JSON), so the page can never
disagree with what the CLI accepts. Usage: osfarm --experimental-dump-help | man-from-toolinfo.py DATE
"""
import json
import sys


def escape(text):
    # mdoc: a leading dot or quote would start a macro; backslashes are escapes.
    text = (text or "").replace("\\", "\\e")
    for wide, plain in (("…", "..."), ("→", "->"), ("–", "-"), ("—", "-"), ("’", "'"), ("“", '"'), ("”", '"')):
        text = text.replace(wide, plain)
    return "\n".join(("\\&" + line if line[:1] in (".", "'") else line) for line in text.splitlines())


def flag_name(name):
    return ("-" if name["kind"] == "short" else "--") + name["name"]


def synopsis(path, arguments):
    parts = [".Nm" if not path else ".Nm " + " ".join(path)]
    for argument in arguments:
        if not argument.get("shouldDisplay", True):
            continue
        if argument["kind"] == "positional":
            item = ".Ar " + argument.get("valueName", "value")
        else:
            name = flag_name(argument["preferredName"])
            item = ".Fl " + name[1:] if argument["kind"] == "flag" else ".Fl " + name[1:] + " Ar " + argument.get("valueName", "value")
        parts.append((".Op " + item[1:]) if argument.get("isOptional") else item)
    return parts


def options(arguments):
    lines = []
    for argument in arguments:
        if not argument.get("shouldDisplay", True):
            continue
        names = argument.get("names") or []
        if argument["kind"] == "positional":
            head = ".It Ar " + argument.get("valueName", "value")
        else:
            value = "" if argument["kind"] == "flag" else " Ar " + argument.get("valueName", "value")
            head = ".It " + " , ".join("Fl " + flag_name(name)[1:] for name in names) + value
        lines.append(head)
        about = escape(argument.get("abstract", ""))
        if argument.get("defaultValue") not in (None, ""):
            about += " (default: " + escape(str(argument["defaultValue"])) + ")"
        lines.append(about or "\\&")
    return lines


def section(command, path, out):
    arguments = [a for a in command.get("arguments", []) if a.get("shouldDisplay", True)]
    subcommands = [c for c in command.get("subcommands", []) if c.get("shouldDisplay", True)]
    if path:
        out.append(".Ss " + " ".join(path))
        out.append(escape(command.get("abstract", "")))
    if arguments:
        out.append(".Bd -literal -offset indent")
        out.append(" ".join([" ".join(["osfarm"] + path)] + [("[" if a.get("isOptional") else "")
                   + (a.get("valueName", "value") if a["kind"] == "positional" else flag_name(a["preferredName"])
                      + ("" if a["kind"] == "flag" else " <" + a.get("valueName", "value") + ">"))
                   + ("]" if a.get("isOptional") else "") for a in arguments]))
        out.append(".Ed")
        out.append(".Bl -tag -width 6n")
        out.extend(options(arguments))
        out.append(".El")
    if command.get("discussion") and path:
        out.append(".Pp")
        out.append(escape(command["discussion"]))
    for sub in subcommands:
        section(sub, path + [sub["commandName"]], out)


def main():
    date = sys.argv[1] if len(sys.argv) > 1 else "January 1, 2026"
    info = json.load(sys.stdin)["command"]
    out = [
        ".Dd " + date,
        ".Dt OSFARM 1",
        ".Os",
        ".Sh NAME",
        ".Nm osfarm",
        ".Nd " + escape(info.get("abstract", "")),
        ".Sh SYNOPSIS",
        ".Nm",
        ".Ar subcommand",
        ".Op Ar options",
        ".Sh DESCRIPTION",
        escape(info.get("discussion", "")),
        ".Sh COMMANDS",
    ]
    section(info, [], out)
    out += [
        ".Sh ENVIRONMENT",
        ".Bl -tag -width 6n",
        ".It Ev OSFARM_KEY_PASSPHRASE",
        "the client key's passphrase (another variable with --passphrase-env); never on the command line",
        ".It Ev XDG_STATE_HOME",
        "where runs are journaled: $XDG_STATE_HOME/osfarm/runs (default ~/.local/state); --state-dir overrides it",
        ".It Ev NO_COLOR",
        "when set and not empty, the live view draws no colour (it draws none without a terminal either)",
        ".It Ev SUDO_USER , USER",
        "who started a run, as its record and the agents' claims name it",
        ".El",
        ".Pp",
        "Hooks receive",
        ".Ev OSFARM_HOOK , OSFARM_RUN_ID , OSFARM_SERVER , OSFARM_HOST , OSFARM_ADDRESS",
        "and",
        ".Ev OSFARM_STEP .",
        ".Sh FILES",
        ".Bl -tag -width 6n",
        ".It Pa $XDG_STATE_HOME/osfarm/runs/RUN-ID/",
        "a run's record (run.json), journal (journal.jsonl) and diagnostic log (debug.log)",
        ".El",
        ".Sh EXIT STATUS",
        ".Bl -tag -width 2n -compact",
        ".It 0", "all done on every selected server",
        ".It 1", "some servers were reached but failed",
        ".It 2", "usage or configuration error; nothing attempted",
        ".It 3", "stopped by the maintenance window or the operator (or waiting at the restore gate); resumable",
        ".It 4", "at least one server unreachable",
        ".El",
        ".Sh EXAMPLES",
        "The workflow: check the farm, read the plan, run the read-only checks, then the move.",
        ".Bd -literal -offset indent",
        "osfarm check -i farm.yaml",
        "osfarm move-db plan -i farm.yaml --to sql-new.example.com",
        "osfarm move-db preflight -i farm.yaml --to sql-new.example.com",
        "osfarm move-db run -i farm.yaml --to sql-new.example.com --report change.md",
        ".Ed",
        ".Pp",
        "On a terminal the run shows what it will do and asks for the deployment controller's name; once every",
        "server is stopped it waits for the DBA's restore. Unattended (cron, a scheduled window) it needs",
        ".Fl -yes ,",
        "and stops at the restore gate unless",
        ".Fl -db-restored",
        "says the restore is done:",
        ".Bd -literal -offset indent",
        "osfarm move-db run -i farm.yaml --to sql-new.example.com --window 22:00/23:30 --yes",
        ".Ed",
        ".Pp",
        "The way out. Every stop prints the servers not serving and the two commands that end that state:",
        "carry the move on, or put every touched server back on the old database.",
        ".Bd -literal -offset indent",
        "osfarm runs",
        "osfarm runs show RUN-ID",
        "osfarm resume RUN-ID --db-restored",
        "osfarm rollback RUN-ID",
        ".Ed",
        ".Pp",
        "Once the move is confirmed, remove the run's backups (they hold secrets):",
        ".Bd -literal -offset indent",
        "osfarm backups prune RUN-ID -i farm.yaml",
        ".Ed",
        ".Sh SEE ALSO",
        ".Xr ssh 1 ,",
        ".Xr sshd 8",
    ]
    sys.stdout.write("\n".join(line for line in out if line is not None) + "\n")


if __name__ == "__main__":
    main()
