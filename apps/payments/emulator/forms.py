"""Stripe's request encoding: ``application/x-www-form-urlencoded`` with bracketed keys.

``metadata[k]=v`` becomes ``{"metadata": {"k": "v"}}``; ``expand[0]=a`` and ``expand[]=a`` become lists.
Values stay strings; each endpoint coerces what it reads.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def decode(body: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True):
        match = _KEY.match(raw_key)
        if not match:
            root[raw_key] = value
            continue
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for i, part in enumerate(path):
            last = i == len(path) - 1
            key = part if part != "" else str(_next_index(node))
            if last:
                node[key] = value
            else:
                child = node.get(key)
                if not isinstance(child, dict):
                    child = {}
                    node[key] = child
                node = child
    decoded: dict[str, Any] = _listify(root)
    return decoded


def _next_index(node: dict[str, Any]) -> int:
    return sum(1 for k in node if k.isdigit())


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted
