"""The scenario's YAML reader: plain data only, no key given twice, no alias bombs.

The YAML is read with a ``yaml.SafeLoader`` subclass: a scenario can never construct
Python objects.
"""

from __future__ import annotations

from typing import Any

import yaml


class _UniqueKeySafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (no object construction, no tags beyond plain YAML) that refuses
    a key given twice in one mapping: YAML keeps the last silently, so a planner who writes
    ``balance:`` twice would lose the first without a word. It also refuses a document whose
    aliases expand past MAX_SCENARIO_VALUES, counted on the composed nodes before any value
    is built (see :func:`_expanded_size`)."""

    def compose_document(self):
        node = super().compose_document()
        if node is not None:
            _expanded_size(node, MAX_SCENARIO_VALUES)
        return node


def _unique_mapping(loader: _UniqueKeySafeLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            continue  # the base constructor reports unhashable keys itself
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"key '{key}' appears twice (first on line {seen[key]})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeySafeLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping
)

#: a scenario is a page of settings; a few thousand quota overrides stay far below these
MAX_SCENARIO_BYTES = 8 << 20
MAX_SCENARIO_VALUES = 200_000


class AliasBombError(yaml.YAMLError):
    """The document's aliases expand to more values than any scenario holds."""

    def __init__(self, message: str, mark=None):
        super().__init__(message)
        self.problem = message
        self.problem_mark = mark


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """How many values ``root`` stands for once every alias is expanded, counted without
    expanding: a node reached through several aliases counts once per path (memoised by
    node), so nested aliases ("billion laughs") are caught at composition, before any
    object is built. Raises AliasBombError past ``limit`` or on a node containing itself."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if children_done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] > limit:
                raise AliasBombError(
                    f"its aliases expand to more than {limit:,} values (an alias bomb?)",
                    node.start_mark,
                )
            continue
        if key in open_nodes:
            raise AliasBombError("an alias refers to a value that contains it", node.start_mark)
        open_nodes.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                raise AliasBombError(
                    "an alias refers to a value that contains it", child.start_mark
                )
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def safe_load_yaml(text: str) -> Any:
    """Plain YAML data only (see :class:`_UniqueKeySafeLoader`); raises ``yaml.YAMLError``."""
    return yaml.load(text, Loader=_UniqueKeySafeLoader)  # noqa: S506 - a SafeLoader subclass
