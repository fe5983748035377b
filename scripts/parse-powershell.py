"""Parses PowerShell scripts with tree-sitter-powershell; fails, naming file, line and column, on
any ERROR or MISSING node (a syntax error the real parser would reject too), and on any string or
bare argument that names a Windows principal in words.

Built-in account and group names are translated on localized Windows ("Administratoren",
"Administrateurs", "Administradores"), so icacls /grant Administrators:F fails on a German server
("Zuordnungen von Kontennamen und Sicherheitskennungen wurden nicht durchgefuehrt",
MicrosoftDocs/windowsserverdocs issue 6185, fixed in PR 7392 with *S-1-5-32-544), and a comparison
with 'BUILTIN\\Administrators' never matches there (PowerShell/Win32-OpenSSH issue 1757: sshd's own
"Match Group administrators" failed the same way). Scripts name principals by well-known SID:
'*S-1-5-32-544' for icacls, [Security.Principal.SecurityIdentifier] for ACL comparisons. Comments
and messages for people may use the words; only code that names a principal is refused."""
import re
import sys

import tree_sitter_powershell
from tree_sitter import Language, Parser

# English names of the built-in principals a script is likely to name (Microsoft Learn, "Security
# identifiers": well-known SIDs), each with its SID for the message.
WELL_KNOWN = {
    "administrators": "S-1-5-32-544",
    "users": "S-1-5-32-545",
    "guests": "S-1-5-32-546",
    "remote desktop users": "S-1-5-32-555",
    "system": "S-1-5-18",
    "local system": "S-1-5-18",
    "local service": "S-1-5-19",
    "network service": "S-1-5-20",
    "everyone": "S-1-1-0",
    "authenticated users": "S-1-5-11",
    "interactive": "S-1-5-4",
    "creator owner": "S-1-3-0",
}
NAMES = "|".join(sorted((re.escape(name) for name in WELL_KNOWN), key=len, reverse=True))
# 'BUILTIN\Administrators', 'NT AUTHORITY\SYSTEM', "$env:COMPUTERNAME\Administrators" (a path such as
# 'C:\Users' is not a principal, so a bare backslash before a name is not enough).
QUALIFIED = re.compile(r"(?:\bBUILTIN|\bNT AUTHORITY|\$env:COMPUTERNAME|\$env:USERDOMAIN)\\([\w ]*\w)", re.I)
# 'Administrators', 'Everyone', 'SYSTEM:F', 'Administrators:(OI)(CI)F', "/grant Users:(R)"
GRANT = re.compile(rf"(?:^|[\s/])({NAMES}):\(?[A-Z]", re.I)
WHOLE = re.compile(rf"^\s*({NAMES})\s*$", re.I)


def literal_text(source, node):
    text = source[node.start_byte:node.end_byte].decode("utf-8", "replace")
    if node.type == "string_literal" and len(text) >= 2 and text[0] in "'\"" and text[-1] == text[0]:
        return text[1:-1]
    if node.type == "string_literal" and text.startswith("@"):
        return text[2:-2]
    return text


def principal_in_words(text):
    for pattern in (QUALIFIED, GRANT, WHOLE):
        match = pattern.search(text)
        if match:
            name = next((group for group in match.groups() if group), match.group(0))
            sid = WELL_KNOWN.get(name.lower())
            return match.group(0).strip(), sid
    return None


def problems(path):
    with open(path, "rb") as handle:
        source = handle.read()
    tree = Parser(Language(tree_sitter_powershell.language())).parse(source)
    found = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        line, column = node.start_point
        where = f"{path}:{line + 1}:{column + 1}"
        if node.type == "ERROR" or node.is_missing:
            text = source[node.start_byte:node.end_byte].decode("utf-8", "replace").splitlines()
            found.append(f"{where}: {'missing ' + node.type if node.is_missing else 'syntax error'}"
                         f" near {text[0][:60] if text else ''!r}")
        if node.type in ("string_literal", "generic_token"):
            named = principal_in_words(literal_text(source, node))
            if named:
                words, sid = named
                instead = f"'*{sid}' for icacls, [Security.Principal.SecurityIdentifier]'{sid}' in code" if sid else "its well-known SID"
                found.append(f"{where}: names a principal in words ({words!r}), which localized Windows"
                             f" translates; use {instead}")
            continue
        stack.extend(node.children)
    return found, tree.root_node.child_count


def main(paths):
    failed = False
    for path in paths:
        found, statements = problems(path)
        if statements == 0:
            found.append(f"{path}: nothing parsed")
        for problem in sorted(found):
            print(problem, file=sys.stderr)
        failed = failed or bool(found)
        if not found:
            print(f"tree-sitter-powershell: {path} ok ({statements} top-level nodes, no principal named in words)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
