"""Files in and out, each format in one module; every write is atomic, every read refuses bad input in one line.

- ``atomic``: atomic writes (temp, fsync, rename) and the check that an output never overwrites an input;
- ``paths``: what an input path is (file, folder, missing, device), asked once by every reader;
- ``images``: user images read (style images, photos) and PNGs written;
- ``segmap``: seg maps (palette PNGs, label-index PNGs, face-parser labels) in and out;
- ``ply``: Gaussian heads as standard 3DGS ``.ply`` files;
- ``checkpoints``: model files (safetensors) and training state.
"""
