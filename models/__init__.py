"""Model backends, one module per model family, behind the role protocols in models.base."""

from models import gpu_env

gpu_env.apply()  # before anything below imports torch: CUDA/HIP read these once, when they start
