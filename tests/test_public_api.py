"""Pins the names the packages export (changing them is an API change)."""

from __future__ import annotations

import bamboo
import bamboo.graph


def test_root_exports() -> None:
    assert sorted(bamboo.__all__) == sorted(
        [
            "BambooError",
            "ConceptNotFound",
            "ConfigurationError",
            "DatasetNotFound",
            "GraphUnavailable",
            "InvariantViolation",
            "QueryError",
            "QueryTimeout",
            "ServiceError",
            "SnapshotError",
            "TaskNotFound",
            "VoteRejected",
            "WordNetNotFound",
            "__version__",
        ]
    )


def test_graph_exports() -> None:
    assert sorted(bamboo.graph.__all__) == sorted(
        [
            "ENTITY_ID",
            "BuildReport",
            "Concept",
            "ConceptRef",
            "GraphSettings",
            "GraphStore",
            "Page",
            "Taxonomy",
            "build_wordnet",
            "open_driver",
        ]
    )
    for name in bamboo.graph.__all__:
        assert hasattr(bamboo.graph, name)


def test_errors_subclass_builtins() -> None:
    assert issubclass(bamboo.ConceptNotFound, KeyError)
    assert issubclass(bamboo.WordNetNotFound, FileNotFoundError)
    assert issubclass(bamboo.GraphUnavailable, ConnectionError)
    assert all(issubclass(getattr(bamboo, n), bamboo.BambooError) for n in bamboo.__all__ if n[0].isupper())


def test_loaders_exports() -> None:
    import bamboo.loaders

    assert sorted(bamboo.loaders.__all__) == sorted(
        [
            "LabelSet",
            "Loader",
            "MalformedFile",
            "RawClass",
            "create_loader",
            "find_available",
            "list_loaders",
            "package_folders",
            "register_loader",
        ]
    )


def test_sdk_exports() -> None:
    import bamboo.sdk

    assert sorted(bamboo.sdk.__all__) == sorted(
        [
            "AsyncBambooClient",
            "BambooClient",
            "DatasetGrowth",
            "GrowthConfig",
            "LabelSpace",
            "LabelSystem",
            "OfflineLabels",
            "bucket_by_time",
            "retrieve_for_concepts",
        ]
    )
    for name in bamboo.sdk.__all__:
        assert hasattr(bamboo.sdk, name)
