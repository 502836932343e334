"""``flambeau.utils.data``: datasets, samplers, ``DataLoader`` (single process) and ``default_collate``."""

from ..._missing import module_getattr
from .dataloader import DataLoader, default_collate, default_convert
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "random_split", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler"]

__getattr__ = module_getattr("utils.data", "flambeau.utils.data")  # a PyTorch name flambeau lacks: NotImplementedError
