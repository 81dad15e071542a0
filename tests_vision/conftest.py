"""Fixtures for the torchvision tests (``make test-vision``, in .venv-vision; not part of ``make test``)."""

import importlib.util
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLE = os.path.join(ROOT, "examples", "inception.py")
sys.path.insert(0, HERE)  # random_inception (it imports torch and torchvision when called)

from random_inception import save_random_inception  # noqa: E402


@pytest.fixture(scope="session")
def example():
    """examples/inception.py as a module."""
    spec = importlib.util.spec_from_file_location("inception_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def weights_file(tmp_path_factory):
    """A seeded random Inception v3 saved as a state dict (nothing is downloaded)."""
    path = tmp_path_factory.mktemp("weights") / "random_inception_v3.pth"
    save_random_inception(str(path), seed=0)
    return str(path)
