"""Many continuations of one prompt scored in one forward: their tokens as a prefix tree (shared
beginnings once) and the 4-D attention mask that lets each tree token see the prompt and its own
ancestors only. Used by ``LocalLM.score_tree``."""

from __future__ import annotations


def token_tree(sequences: list[list[int]]) -> tuple[list[int], list[int], list[list[int]]]:
    """A prefix tree of token sequences: ``tokens[i]`` and ``parents[i]`` (-1: the root) of each node,
    parents before children, and each sequence's ``path`` of node indices (one per token)."""
    tokens: list[int] = []
    parents: list[int] = []
    children: dict[tuple[int, int], int] = {}
    paths = []
    for sequence in sequences:
        node, path = -1, []
        for token in sequence:
            key = (node, token)
            if key not in children:
                children[key] = len(tokens)
                tokens.append(token)
                parents.append(node)
            node = children[key]
            path.append(node)
        paths.append(path)
    return tokens, parents, paths


def tree_mask(torch, parents: list[int], prompt_length: int, additive: bool = False):
    """The ``(n, prompt_length + n)`` mask of an ``n``-node tree (True: may attend; with ``additive``
    0 / -inf floats instead, for eager attention) and each node's depth below the prompt."""
    n = len(parents)
    mask, depth = torch.zeros((n, prompt_length + n), dtype=torch.bool), [0] * n
    mask[:, :prompt_length] = True
    for node, parent in enumerate(parents):  # parents come first: a node sees its ancestors and itself
        if parent >= 0:
            mask[node, prompt_length:] = mask[parent, prompt_length:]
            depth[node] = depth[parent] + 1
        mask[node, prompt_length + node] = True
    if additive:
        mask = torch.zeros(mask.shape).masked_fill(~mask, torch.finfo(torch.float32).min)
    return mask, depth
