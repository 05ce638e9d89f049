"""Writes the reference .npy files NpyTest reads (run from this directory: python3 make_reference.py).

Written by NumPy itself, so the tests check the reader against real files and the writer's bytes
against numpy.save without needing Python. Every array holds x[i] = i / 4 - 1 in C order.
"""
import numpy as np
from numpy.lib import format as npf


def values(shape, dtype):
    return (np.arange(int(np.prod(shape))) / 4 - 1).reshape(shape).astype(dtype)


np.save("f4_2x3.npy", values((2, 3), "<f4"))
np.save("f8_big_endian_2x3.npy", values((2, 3), ">f8"))
np.save("f4_big_endian_2x2x2.npy", values((2, 2, 2), ">f4"))
np.save("f8_scalar.npy", np.float64(2.5))
np.save("f4_empty_0x4.npy", np.zeros((0, 4), "<f4"))
np.save("f4_fortran_2x3.npy", np.asfortranarray(values((2, 3), "<f4")))
with open("f8_v2_4.npy", "wb") as f:
    npf.write_array(f, values((4,), "<f8"), version=(2, 0))
with open("f4_v3_3.npy", "wb") as f:
    npf.write_array(f, values((3,), "<f4"), version=(3, 0))
