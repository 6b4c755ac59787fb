"""`python -m llama_cpp.server`, with llama.cpp's extra weight buffers (repacking, AMX) turned off.

Why: a llama.cpp built with -march=native on a machine whose CPU advertises AMX but whose VM does
not enable the AMX tile state dies on its first matrix product (SIGILL in libggml-cpu's AMX
kernels; seen on this project's machines). The Makefile builds llama-cpp-python without native
flags so its wheel runs anywhere; this guards a wheel built natively before that (pip keeps built
wheels). llama-cpp-python does not expose the model parameter, so its default is changed here."""

import sys

import llama_cpp.llama_cpp as lib

_defaults = lib.llama_model_default_params


def _model_params():
    params = _defaults()
    params.use_extra_bufts = False
    return params


lib.llama_model_default_params = _model_params

if __name__ == "__main__":
    from llama_cpp.server.__main__ import main

    sys.argv[0] = "llama_cpp.server"
    main()
