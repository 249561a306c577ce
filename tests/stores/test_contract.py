"""Both shipped stores pass the contract suite shipped in carecoord.testing."""

from __future__ import annotations

from pathlib import Path

import pytest

from carecoord.ports import Store
from carecoord.stores import MemoryStore, SQLiteStore
from carecoord.testing.contracts import StoreContract


class TestMemoryStore(StoreContract):
    """MemoryStore keeps the contract (it is not durable: the reopen test is skipped)."""

    def make_store(self) -> Store:
        """A new MemoryStore."""
        return MemoryStore()


class TestSQLiteStore(StoreContract):
    """SQLiteStore keeps the contract, file-backed, and reopens with everything committed."""

    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.folder = tmp_path
        self.count = 0

    def make_store(self) -> Store:
        """A new SQLiteStore in a fresh file."""
        self.count += 1
        return SQLiteStore(self.folder / f"store-{self.count}.db")

    def reopen(self, store: Store) -> Store | None:
        """Close the store and open its file again."""
        store.close()
        return SQLiteStore(self.folder / f"store-{self.count}.db")
