"""Import the addon's Odoo-free code without Odoo.

* ``smslib`` is the library ``sms_center/lib``.
* ``smscenter_addon.tests.gammu_dummy`` and ``.kannel_process`` are the test
  harnesses the Odoo tests use too (one copy, in the addon, which must not
  import this directory). ``smscenter_addon`` and ``smscenter_addon.tests``
  are empty stand-ins whose ``__path__`` is the addon's directory, so that
  neither ``sms_center/__init__.py`` nor ``sms_center/tests/__init__.py``
  (both import Odoo) runs; ``smscenter_addon.lib`` and its modules are the
  very ``smslib`` modules, so that the harnesses' relative imports
  (``from ..lib import dlr``) give the objects the tests use.
"""

import importlib
import importlib.util
import sys
import types
from pathlib import Path

ADDON = Path(__file__).resolve().parent.parent / "sms_center"
LIB = ADDON / "lib"

if "smslib" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "smslib", LIB / "__init__.py", submodule_search_locations=[str(LIB)]
    )
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["smslib"] = _module
    _spec.loader.exec_module(_module)


def _stand_in_package(name, path):
    package = types.ModuleType(name)
    package.__path__ = [str(path)]
    sys.modules[name] = package
    return package


if "smscenter_addon" not in sys.modules:
    _addon = _stand_in_package("smscenter_addon", ADDON)
    _addon.lib = sys.modules["smscenter_addon.lib"] = sys.modules["smslib"]
    for _path in sorted(LIB.glob("*.py")):
        if _path.stem == "__init__":
            continue
        try:
            _lib_module = importlib.import_module(f"smslib.{_path.stem}")
        except ImportError:  # pragma: no cover - an optional dependency
            continue
        sys.modules[f"smscenter_addon.lib.{_path.stem}"] = _lib_module
    _addon.tests = _stand_in_package("smscenter_addon.tests", ADDON / "tests")


try:  # pytest-odoo's autouse fixture needs a database; these tests need none.
    import pytest_odoo  # noqa: F401
except ImportError:  # pragma: no cover - plugin absent
    pass
else:
    import pytest

    @pytest.fixture(scope="session", autouse=True)
    def load_registry():
        """Odoo-free tests: do not load an Odoo registry."""
        yield
