"""The simulated filesystem of an instance: nodes, owners, modes, and who may do what."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Node:
    kind: str  # "file" | "dir"
    owner: str = "root"
    group: str = "root"
    mode: str = "755"
    origin: str = "os"  # os | tag | deploy:<group id> | agent
    content: str = ""


def ensure_dirs(fs: dict[str, Node], path: str, owner: str, group: str, mode: str, origin: str):
    parts = [p for p in path.split("/") if p]
    cur = ""
    for part in parts:
        cur += "/" + part
        if cur not in fs:
            fs[cur] = Node("dir", owner, group, mode, origin)


BASE_DIRS = [
    "/etc",
    "/home",
    "/opt",
    "/root",
    "/srv",
    "/tmp",
    "/usr",
    "/usr/local",
    "/var",
    "/var/log",
    "/var/lib",
    "/var/tmp",
]


# ---- file permissions --------------------------------------------------------------------


def has_bit(node: Node, user: str, bit: int) -> bool:
    """Does `user` have permission `bit` (4 read, 2 write, 1 search/execute) on `node`?"""
    try:
        owner_bits, group_bits, other_bits = (int(d, 8) for d in node.mode[-3:].rjust(3, "0"))
    except ValueError:
        return False
    if user == "root":  # root may read and write anything, and run what anyone may run
        return bit != 1 or node.kind == "dir" or bool((owner_bits | group_bits | other_bits) & 1)
    if node.owner == user:
        bits = owner_bits
    elif node.group == user:
        bits = group_bits
    else:
        bits = other_bits
    return bool(bits & bit)


def can_write(node: Node, user: str) -> bool:
    """May `user` create entries in directory `node` (write + search)?"""
    if user == "root":
        return True
    try:
        digits = node.mode[-3:].rjust(3, "0")
        owner_bits, group_bits, other_bits = (int(d, 8) for d in digits)
    except ValueError:
        return False
    if node.owner == user:
        bits = owner_bits
    elif node.group == user:
        bits = group_bits
    else:
        bits = other_bits
    return bits & 0o3 == 0o3
