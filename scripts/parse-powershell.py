"""Parses PowerShell scripts with tree-sitter-powershell; fails, naming file, line and column, on
any ERROR or MISSING node (a syntax error the real parser would reject too)."""
import sys

import tree_sitter_powershell
from tree_sitter import Language, Parser


def problems(path):
    with open(path, "rb") as handle:
        source = handle.read()
    tree = Parser(Language(tree_sitter_powershell.language())).parse(source)
    found = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            line, column = node.start_point
            text = source[node.start_byte:node.end_byte].decode("utf-8", "replace").splitlines()
            found.append(f"{path}:{line + 1}:{column + 1}: {'missing ' + node.type if node.is_missing else 'syntax error'}"
                         f" near {text[0][:60] if text else ''!r}")
        stack.extend(node.children)
    return found, tree.root_node.child_count


def main(paths):
    failed = False
    for path in paths:
        found, statements = problems(path)
        if statements == 0:
            found.append(f"{path}: nothing parsed")
        for problem in found:
            print(problem, file=sys.stderr)
        failed = failed or bool(found)
        if not found:
            print(f"tree-sitter-powershell: {path} ok ({statements} top-level nodes)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
