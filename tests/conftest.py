"""Make the Odoo-free library importable as the package ``smslib``."""

import importlib.util
import sys
from pathlib import Path

LIB = Path(__file__).resolve().parent.parent / "sms_center" / "lib"

if "smslib" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "smslib", LIB / "__init__.py", submodule_search_locations=[str(LIB)]
    )
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["smslib"] = _module
    _spec.loader.exec_module(_module)


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
