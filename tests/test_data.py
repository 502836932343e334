"""utils.data vs PyTorch: datasets, samplers, DataLoader batching and collation, random_split."""

from collections import namedtuple

import numpy as np
import pytest
import torch
from torch.utils import data as tdata

import flambeau
from flambeau.utils import data as fdata


def _arr(x):
    return np.asarray(x.tolist()) if hasattr(x, "tolist") else x


def _same_batches(ours, theirs):
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        _same(a, b)


def _same(a, b):
    if isinstance(b, torch.Tensor):
        assert isinstance(a, flambeau.Tensor) and str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(b, dict):
        assert list(a) == list(b)
        for k in b:
            _same(a[k], b[k])
    elif isinstance(b, list | tuple):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert a == b


X = np.arange(30, dtype=np.float32).reshape(10, 3)
Y = np.arange(10)


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True), (10, False), (4, True)])
def test_tensor_dataset_loader(batch_size, drop_last):
    ours = fdata.DataLoader(fdata.TensorDataset(flambeau.tensor(X), flambeau.tensor(Y)), batch_size=batch_size, drop_last=drop_last)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.tensor(X), torch.tensor(Y)), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    _same_batches(ours, theirs)


Point = namedtuple("Point", "x y")


class Samples:
    """A map-style dataset of varied Python samples (no base class needed)."""

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"img": np.full((2, 2), i, np.float32), "label": i, "score": i / 2, "name": f"s{i}",
                "pair": (self.lib.tensor([i, i + 1]), i % 2 == 0), "point": Point(i, float(i))}


def test_collate_structures():
    _same_batches(fdata.DataLoader(Samples(flambeau), batch_size=3), tdata.DataLoader(Samples(torch), batch_size=3))
    _same_batches(fdata.DataLoader(Samples(flambeau), batch_size=None), tdata.DataLoader(Samples(torch), batch_size=None))


def test_shuffle_is_a_permutation_and_seeded():
    ds = fdata.TensorDataset(flambeau.tensor(Y))
    epoch = [int(v) for b in fdata.DataLoader(ds, batch_size=4, shuffle=True) for v in b[0].tolist()]
    assert sorted(epoch) == list(range(10))
    orders = []
    for _ in range(2):
        g = flambeau.Generator().manual_seed(3)
        orders.append([v for b in fdata.DataLoader(ds, batch_size=4, shuffle=True, generator=g) for v in b[0].tolist()])
    assert orders[0] == orders[1]


def test_shuffle_order_equals_torch():
    ours = fdata.DataLoader(fdata.TensorDataset(flambeau.tensor(Y)), batch_size=3, shuffle=True, generator=flambeau.Generator().manual_seed(7))
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.tensor(Y)), batch_size=3, shuffle=True, generator=torch.Generator().manual_seed(7))
    for _ in range(2):
        _same_batches(ours, theirs)
    # without a generator: both draw from the default generator (a worker seed, a sampler seed, then the permutation)
    flambeau.manual_seed(3), torch.manual_seed(3)
    for _ in range(2):
        _same_batches(fdata.DataLoader(list(range(10)), batch_size=4, shuffle=True), tdata.DataLoader(list(range(10)), batch_size=4, shuffle=True))
    flambeau.manual_seed(5), torch.manual_seed(5)
    assert [list(s) for s in fdata.random_split(range(10), [3, 7])] == [list(s) for s in tdata.random_split(range(10), [3, 7])]
    assert list(fdata.RandomSampler(range(5), replacement=True, num_samples=40)) == list(tdata.RandomSampler(range(5), True, 40))


def test_iterable_dataset():
    class Stream(fdata.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    class TStream(tdata.IterableDataset):
        def __iter__(self):
            return iter(range(7))
    _same_batches(fdata.DataLoader(Stream(), batch_size=3), tdata.DataLoader(TStream(), batch_size=3))
    _same_batches(fdata.DataLoader(Stream(), batch_size=3, drop_last=True), tdata.DataLoader(TStream(), batch_size=3, drop_last=True))
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        fdata.DataLoader(Stream(), shuffle=True)


def test_subset_concat_random_split():
    ds = fdata.TensorDataset(flambeau.tensor(X))
    sub = fdata.Subset(ds, [4, 1, 7])
    assert len(sub) == 3 and sub[1][0].tolist() == X[1].tolist()
    cat = ds + fdata.TensorDataset(flambeau.tensor(X[:2] * -1))
    assert len(cat) == 12 and cat[10][0].tolist() == (-X[0]).tolist() and cat[-1][0].tolist() == (-X[1]).tolist()
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        cat[-13]
    parts = fdata.random_split(range(10), [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2] and sorted(i for p in parts for i in p) == list(range(10))
    assert [len(p) for p in fdata.random_split(range(10), [0.33, 0.33, 0.34])] == [len(p) for p in tdata.random_split(range(10), [0.33, 0.33, 0.34])]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        fdata.random_split(range(10), [3, 3])


def test_loader_argument_errors_match_torch():
    ds = fdata.TensorDataset(flambeau.tensor(Y))
    tds = tdata.TensorDataset(torch.tensor(Y))
    for kw in ({"sampler": [0, 1], "shuffle": True}, {"batch_sampler": [[0]], "batch_size": 2}, {"batch_size": 0}, {"num_workers": -1},
               {"batch_size": None, "drop_last": True}):
        with pytest.raises(ValueError) as theirs:
            tdata.DataLoader(tds, **kw)
        with pytest.raises(ValueError) as ours:
            fdata.DataLoader(ds, **kw)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        fdata.TensorDataset(flambeau.ones(3), flambeau.ones(4))


def test_samplers():
    assert list(fdata.BatchSampler(fdata.SequentialSampler(range(5)), 2, True)) == [[0, 1], [2, 3]]
    assert len(fdata.BatchSampler(range(5), 2, False)) == 3
    assert sorted(fdata.RandomSampler(range(6))) == list(range(6))
    assert len(list(fdata.RandomSampler(range(6), num_samples=15))) == 15
    assert sorted(fdata.SubsetRandomSampler([3, 5, 9])) == [3, 5, 9]
    custom = fdata.DataLoader(range(6), batch_sampler=[[5, 0], [1]])
    assert [b.tolist() for b in custom] == [[5, 0], [1]]
