"""flambeau.save / flambeau.load: round trips of tensors, state dicts and optimizer states; pickles are refused."""

import io
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import flambeau


def _round_trip(obj):
    buf = io.BytesIO()
    flambeau.save(obj, buf)
    buf.seek(0)
    return flambeau.load(buf)


def test_tensors_and_containers(tmp_path):
    t = flambeau.tensor([[1.5, 2.0], [3.0, -4.0]], dtype=flambeau.float64)
    obj = {"t": t, "same": t, "ints": flambeau.arange(5), "flags": flambeau.tensor([True, False]), "n": 3, "x": 0.5, "s": "hi",
           "none": None, "nested": [1, (2, flambeau.ones(2, requires_grad=True))], 7: "int key", "dtype": flambeau.float16,
           "array": np.arange(3)}
    back = _round_trip(obj)
    assert back["t"].dtype == flambeau.float64 and back["t"].tolist() == t.tolist()
    assert back["same"] is back["t"]  # a tensor saved twice loads once
    assert back["ints"].dtype == flambeau.int64 and back["flags"].dtype == flambeau.bool
    assert back["nested"][1][1].requires_grad and isinstance(back["nested"][1], tuple)
    assert back[7] == "int key" and back["dtype"] is flambeau.float16 and back["array"].tolist() == [0, 1, 2]
    assert [back[k] for k in ("n", "x", "s", "none")] == [3, 0.5, "hi", None]
    path = tmp_path / "t.pt"
    flambeau.save(t, path)
    assert flambeau.load(path).tolist() == t.tolist() and flambeau.load(str(path)).shape == t.shape


def test_model_and_optimizer_state_round_trip():
    def make():
        net = flambeau.nn.Sequential(flambeau.nn.Linear(3, 4), flambeau.nn.ReLU(), flambeau.nn.Linear(4, 1))
        net.register_buffer("count", flambeau.tensor(0))
        return net
    net = make()
    net.count.fill_(3)
    opt = flambeau.optim.Adam(net.parameters(), lr=0.01)
    net(flambeau.ones(5, 3)).sum().backward()
    opt.step()
    sd = _round_trip(net.state_dict())
    assert isinstance(sd, OrderedDict) and list(sd) == list(net.state_dict())
    clone = make()
    clone.load_state_dict(sd)
    for (k, a), b in zip(net.state_dict().items(), clone.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    osd = _round_trip(opt.state_dict())
    assert osd["param_groups"] == opt.state_dict()["param_groups"]
    assert osd["state"][0]["exp_avg"].tolist() == opt.state[net[0].weight]["exp_avg"].tolist()
    p = _round_trip(flambeau.nn.Parameter(flambeau.ones(2)))
    assert isinstance(p, flambeau.nn.Parameter) and p.requires_grad


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_malicious_pickles_are_refused(tmp_path):
    bare = tmp_path / "evil.pkl"
    bare.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(pickle.UnpicklingError, match="refuses a pickle file"):
        flambeau.load(bare)
    # a torch-style archive whose data.pkl would call os.system when unpickled
    archive = tmp_path / "evil.pt"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"weight": _Evil()}))
        z.writestr("archive/version", "3\n")
    with pytest.raises(pickle.UnpicklingError, match="refuses PyTorch's pickle-based archive"):
        flambeau.load(archive)
    # a real file written by torch.save is refused the same way
    real = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2)}, real)
    with pytest.raises(pickle.UnpicklingError, match="unpickling can execute arbitrary code"):
        flambeau.load(real)


def test_tampered_archives_are_refused(tmp_path):
    path = tmp_path / "x.pt"
    flambeau.save({"w": flambeau.ones(2)}, path)
    with zipfile.ZipFile(path) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    # an object array inside the .npy would need pickle: np.load(allow_pickle=False) refuses it
    buf = io.BytesIO()
    np.save(buf, np.array([_Evil()], dtype=object), allow_pickle=True)
    entries["flambeau/tensors/0.npy"] = buf.getvalue()
    bad = tmp_path / "bad.pt"
    with zipfile.ZipFile(bad, "w") as z:
        for n, data in entries.items():
            z.writestr(n, data)
    with pytest.raises(ValueError, match="allow_pickle"):
        flambeau.load(bad)
    with pytest.raises(TypeError, match="can store tensors"):
        flambeau.save({"evil": _Evil()}, io.BytesIO())
