"""`$ref` loops that never end: found when the schema is compiled, not as an error on every sample.

A `$ref` back to an enclosing schema is fine when the way back goes through a keyword that moves
to a part of the value (`properties`, `items`, ...): a tree's `children` items referring to the
tree schema end with the value's leaves. A way back that stays on the same value (`$ref`,
`allOf`/`anyOf`/`oneOf`, `not`, `if`/`then`/`else`, `dependentSchemas`) applies the schema to the
same value again, forever: `{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}}`.
"""

from __future__ import annotations

from typing import Any, Callable

# keywords whose subschemas apply to the value itself, not to a part of it
_IN_PLACE_ONE = ("not", "if", "then", "else")
_IN_PLACE_MANY = ("allOf", "anyOf", "oneOf")
_IN_PLACE_MAP = ("dependentSchemas", "dependencies")
# keywords whose subschemas apply to parts of the value (`$defs` apply only when referred to)
_PART_ONE = ("items", "additionalItems", "additionalProperties", "contains", "propertyNames", "unevaluatedItems",
             "unevaluatedProperties", "contentSchema")
_PART_MANY = ("prefixItems", "items")
_PART_MAP = ("properties", "patternProperties")


def ref_cycle_problem(nodes: list[tuple[str, dict[str, Any]]], lookup: Callable[[str], Any]) -> str | None:
    """A message naming a loop of schemas that apply to the same value without end, or None.
    `nodes`: every (JSON Pointer, subschema) of the schema; `lookup(ref)`: the schema a `$ref`
    names (None when it cannot be resolved: reported elsewhere)."""
    where = {id(node): path for path, node in nodes}
    state: dict[int, int] = {}  # 1: on the current way, 2: done (no loop through it)

    def steps(node: dict[str, Any]) -> list[tuple[str, Any]]:
        found: list[tuple[str, Any]] = []
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.append(("$ref", lookup(ref)))
        for key in _IN_PLACE_ONE:
            found.append((key, node.get(key)))
        for key in _IN_PLACE_MANY:
            items = node.get(key)
            found += [(f"{key}/{i}", item) for i, item in enumerate(items if isinstance(items, list) else [])]
        for key in _IN_PLACE_MAP:
            values = node.get(key)
            found += [(f"{key}/{name}", item) for name, item in (values.items() if isinstance(values, dict) else [])]
        return [(label, target) for label, target in found if isinstance(target, dict)]

    for start in _used(nodes[0][1], steps) if nodes else []:
        if state.get(id(start)):
            continue
        # depth-first without recursion: (node, its remaining steps, the way to it)
        stack = [(start, iter(steps(start)))]
        way: list[str] = [where.get(id(start), "#")]
        state[id(start)] = 1
        while stack:
            node, remaining = stack[-1]
            step = next(remaining, None)
            if step is None:
                state[id(node)] = 2
                stack.pop()
                way.pop()
                continue
            label, target = step
            seen = state.get(id(target))
            if seen == 1:
                at = where.get(id(target), "?")
                loop = " -> ".join([*(way[way.index(at):] if at in way else way), at])
                return (f"{way[-1]}/{label}: leads back to {at} without moving into the value ({loop}), so "
                        "validation would never end; a schema may refer to itself only through properties, items, ...")
            if seen is None:
                state[id(target)] = 1
                stack.append((target, iter(steps(target))))
                way.append(where.get(id(target), "?"))
    return None


def _used(root: dict[str, Any], steps: Callable[[dict[str, Any]], list[tuple[str, Any]]]) -> list[dict[str, Any]]:
    """The subschemas validation can reach from the root: a loop among unused `$defs` is harmless."""
    found: dict[int, dict[str, Any]] = {id(root): root}
    todo = [root]
    while todo:
        node = todo.pop()
        parts = [node.get(key) for key in _PART_ONE]
        parts += [item for key in _PART_MANY if isinstance(node.get(key), list) for item in node[key]]
        parts += [item for key in _PART_MAP if isinstance(node.get(key), dict) for item in node[key].values()]
        for child in [*parts, *(target for _, target in steps(node))]:
            if isinstance(child, dict) and id(child) not in found:
                found[id(child)] = child
                todo.append(child)
    return list(found.values())
