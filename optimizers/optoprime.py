"""OptoPrime (one optimizer per file): the implementation lives in `optimizers/opto/`."""

from undertow.optimizers.opto import OptoPrime

__all__ = ["OptoPrime"]
