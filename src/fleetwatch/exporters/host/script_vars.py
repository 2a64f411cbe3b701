"""Shell variables the one remote script sets before any collector snippet runs."""

#: the host's machine name as ``uname -m`` prints it (read without a fork on Linux >= 6.1)
ARCH_VAR = "FW_ARCH"
