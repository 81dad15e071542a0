"""``lime.utils``: see :mod:`limekit.compat.utils.generic_utils`."""
