# syntax=docker/dockerfile:1
#
# Qwen3-ASR batch subtitle WebUI (SRT / LRC). Models are never part of the image: mount them at /models.
#
#   docker build -t qwen3-asr-webui .
#   docker build --build-arg INSTALL_VLLM=1 -t qwen3-asr-webui:vllm .
#   docker build --build-arg BASE_IMAGE=pytorch/pytorch:2.4.1-cuda12.4-cudnn9-devel \
#                --build-arg INSTALL_FLASH_ATTN=1 -t qwen3-asr-webui:fa2 .
#   docker build --build-arg BASE_IMAGE=python:3.11-slim -t qwen3-asr-webui:cpu .
#
# Layers run from the least to the most often changed (system packages, torch, Python requirements,
# vLLM, FlashAttention, user, code), and every build argument is declared right before the step that
# uses it, so editing the code or flipping an option never reinstalls torch or the requirements.

ARG BASE_IMAGE=pytorch/pytorch:2.4.1-cuda12.4-cudnn9-runtime
FROM ${BASE_IMAGE}

# A package index mirror or private index. pip reads these three names from the environment by itself;
# build arguments are not kept in the environment of the finished image.
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST

# ffmpeg (with ffprobe) decodes every audio and video format. tini runs as PID 1: it forwards
# `docker stop` to the app and reaps finished job processes, so a finished job never lingers as a
# zombie that still looks alive to the job-state check.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg tini ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# The CUDA base images bring torch. A plain Python base image (the CPU variant) gets the CPU build.
ARG TORCH_CPU_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN python -c "import torch" 2>/dev/null \
    || python -m pip install --no-cache-dir torch --index-url "$TORCH_CPU_INDEX_URL"

WORKDIR /app

# The image's torch is pinned by a constraint: a requirement that wanted another torch fails the build
# here instead of silently replacing the CUDA build with a multi-gigabyte download.
COPY requirements.txt requirements-vllm.txt ./
RUN python -c "from importlib.metadata import version; print('torch==' + version('torch'))" > /tmp/keep-torch.txt \
    && python -m pip install --no-cache-dir --upgrade-strategy only-if-needed \
        -c /tmp/keep-torch.txt -r requirements.txt \
    && rm /tmp/keep-torch.txt

# vLLM pins its own torch build, so this step replaces the base image's torch (and grows the image).
ARG INSTALL_VLLM=0
RUN if [ "$INSTALL_VLLM" = "1" ]; then \
        python -m pip install --no-cache-dir -r requirements-vllm.txt; \
    fi

# FlashAttention 2 compiles against the final torch (after vLLM), which needs nvcc: use a -devel base.
ARG INSTALL_FLASH_ATTN=0
ARG FLASH_ATTN_MAX_JOBS=4
RUN if [ "$INSTALL_FLASH_ATTN" = "1" ]; then \
        if ! command -v nvcc >/dev/null 2>&1; then \
            echo "INSTALL_FLASH_ATTN=1 needs nvcc: build with a -devel BASE_IMAGE," \
                 "e.g. pytorch/pytorch:2.4.1-cuda12.4-cudnn9-devel" >&2; \
            exit 1; \
        fi; \
        python -m pip install --no-cache-dir ninja packaging psutil einops wheel \
        && MAX_JOBS="$FLASH_ATTN_MAX_JOBS" python -m pip install --no-cache-dir --no-build-isolation \
            "flash-attn>=2.7,<3"; \
    fi

# Runtime defaults. QWEN_ASR_IN_DOCKER tells the app it runs in this image. HF_HUB_CACHE is left
# unset on purpose: it follows HF_HOME (as $HF_HOME/hub), so `-e HF_HOME=/hf_cache` moves the model
# cache too.
ENV QWEN_ASR_IN_DOCKER=1 \
    PORT=80 \
    MODELS_DIR=/models \
    DATA_DIR=/data \
    OUTPUT_DIR=/output \
    XDG_CACHE_HOME=/cache \
    HF_HOME=/cache/hf \
    TORCH_HOME=/cache/torch \
    TRANSFORMERS_NO_TORCHVISION=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

# Optional non-root user "app" whose UID/GID match the owner of the mounted host folders, so output
# files are not owned by root. RUN_USER picks who runs the app. A GID that already exists in the base
# image (100 "users" on Synology) is reused. /bin/sh keeps $UID readable here (bash makes it read-only).
ARG ENABLE_NONROOT=0
ARG UID=1000
ARG GID=1000
ARG RUN_USER=root
RUN mkdir -p /models /data /output /cache \
    && if [ "$ENABLE_NONROOT" = "1" ]; then \
        (getent group "$GID" >/dev/null || groupadd -g "$GID" app) \
        && useradd -o -l -m -u "$UID" -g "$GID" -s /bin/sh app \
        && chown "$UID:$GID" /data /output /cache; \
    fi \
    && if ! id "$RUN_USER" >/dev/null 2>&1; then \
        echo "RUN_USER=$RUN_USER does not exist: build with ENABLE_NONROOT=1 to create the user 'app'" >&2; \
        exit 1; \
    fi

COPY . /app

VOLUME ["/models", "/data", "/output", "/cache"]
EXPOSE 80

HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]

USER ${RUN_USER}
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["python", "app.py", "--host", "0.0.0.0"]
