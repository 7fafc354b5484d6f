"""Exact ids and near-duplicate clusters (MinHash + LSH over word shingles).

An agency story reprinted with a new headline and small edits shares most of its word 3-grams with the
original, so its estimated Jaccard similarity stays above the threshold and it joins the original's cluster.
A cluster's id is the id of its first article; later train/dev/test splits group by it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

_WORDS = re.compile(r"\w+")


def fingerprint_text(text: str) -> str:
    """The text as it is compared for identity: NFC, casefolded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def article_id(text: str) -> str:
    """Stable id: 16 hex characters of the SHA-256 of the fingerprint text."""
    return hashlib.sha256(fingerprint_text(text).encode("utf-8")).hexdigest()[:16]


def shingles(text: str, size: int) -> list[bytes]:
    words = _WORDS.findall(fingerprint_text(text))
    if len(words) < size:
        return [" ".join(words).encode("utf-8")] if words else [b""]
    return list({" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)})


def assign_clusters(
    texts: Sequence[str],
    ids: Sequence[str],
    known_clusters: Sequence[str | None],
    *,
    threshold: float,
    num_perm: int,
    shingle_size: int,
    seed: int = 1,
) -> list[str]:
    """Cluster ids for articles in corpus order.

    ``known_clusters[i]`` is kept when given (articles already in the corpus keep their cluster); otherwise an
    article joins the cluster of the earliest earlier article whose similarity passes ``threshold``, or starts
    its own cluster (its own id). LSH keeps this near-linear in the number of articles.
    """
    from datasketch import MinHash, MinHashLSH

    hashes = MinHash.bulk((shingles(t, shingle_size) for t in texts), num_perm=num_perm, seed=seed)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    clusters: list[str] = []
    for i, (minhash, own_id, known) in enumerate(zip(hashes, ids, known_clusters, strict=True)):
        key = f"{i}"
        cluster = known
        if cluster is None:
            matches = [int(k) for k in lsh.query(minhash)]
            matches = [j for j in matches if hashes[j].jaccard(minhash) >= threshold]
            cluster = clusters[min(matches)] if matches else own_id
        clusters.append(cluster)
        lsh.insert(key, minhash)
    return clusters
