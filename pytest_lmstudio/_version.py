"""The version of the distribution, ``pytest-lmstudio``: its only source.

The build reads it from here (``[tool.hatch.version]`` in ``pyproject.toml``), and
``pytest_lmstudio.__version__``, ``fake_server.__version__`` and ``lmstudio-fake --version``
import it, so that all four agree in a wheel, an sdist and a checkout alike. A plain constant,
not ``importlib.metadata``: reading it costs nothing at import, and a checkout that was not
reinstalled cannot report a stale number.
"""

__version__ = "0.1.0"
