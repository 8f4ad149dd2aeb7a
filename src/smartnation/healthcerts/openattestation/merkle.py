"""Merkle tree over the target hashes of a batch, as the reference builds it.

Leaves are sorted as 32-byte values; each level pairs (0,1), (2,3), ... with
`keccak256(sorted(a, b) concatenated)`, and a lone last node moves up unchanged. A document's proof
lists its sibling at each level where it has one, leaf to root. Building every proof here takes
O(n log n); the reference searches the leaf list for each document and takes O(n^2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .hashing import keccak256

_HASH_HEX = re.compile(r"[0-9a-fA-F]{64}")


def combine_hashes(first: bytes, second: bytes) -> bytes:
    """keccak256 of the two hashes concatenated in ascending byte order."""
    return keccak256(first + second if first <= second else second + first)


def parse_hash(text: object) -> bytes | None:
    """Exactly 32 bytes of hex (no `0x`), or None for anything else."""
    if isinstance(text, str) and _HASH_HEX.fullmatch(text):
        return bytes.fromhex(text)
    return None


@dataclass(frozen=True)
class MerkleBatch:
    """The root of a batch and, for each input position, its proof as hex strings."""

    root: str
    proofs: list[list[str]]


def build_batch(target_hashes: list[str]) -> MerkleBatch:
    """Build the tree over `target_hashes` (hex) and return the root and per-input proofs."""
    if not target_hashes:
        raise ValueError("a batch needs at least one document")
    leaves = [bytes.fromhex(h) for h in target_hashes]
    order = sorted(range(len(leaves)), key=leaves.__getitem__)
    level = [leaves[i] for i in order]
    # position of each sorted leaf within the current level: starts as its sorted index
    layers: list[list[bytes]] = [level]
    while len(level) > 1:
        nxt = [
            combine_hashes(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
        layers.append(nxt)
        level = nxt
    proofs_sorted: list[list[str]] = []
    for index in range(len(leaves)):
        proof: list[str] = []
        i = index
        for layer in layers[:-1]:
            sibling = i ^ 1
            if sibling < len(layer):
                proof.append(layer[sibling].hex())
            i >>= 1
        proofs_sorted.append(proof)
    proofs: list[list[str]] = [[] for _ in leaves]
    # duplicates share the first sorted position, as the reference's findIndex does
    first_position: dict[bytes, int] = {}
    for sorted_index, original in enumerate(order):
        first_position.setdefault(leaves[original], sorted_index)
    for original, leaf in enumerate(leaves):
        proofs[original] = proofs_sorted[first_position[leaf]]
    return MerkleBatch(root=layers[-1][0].hex(), proofs=proofs)


def check_proof(proof: list[bytes], root: bytes, target: bytes) -> bool:
    """True when folding `proof` into `target` yields `root`."""
    current = target
    for sibling in proof:
        current = combine_hashes(current, sibling)
    return current == root


def intermediate_hashes(target_hash: str, proof: list[str]) -> list[str]:
    """`0x`-prefixed target hash and every node on its path to the root (for revocation checks)."""
    hashes = ["0x" + target_hash]
    current = bytes.fromhex(target_hash)
    for sibling in proof:
        current = combine_hashes(current, bytes.fromhex(sibling))
        hashes.append("0x" + current.hex())
    return hashes
