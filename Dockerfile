# capmaas-manager: the provider's controller manager as a container image.
#
#   docker build -t capmaas-manager:dev .
#
# Three stages so the image holds only what runs: the build stage compiles src/ with
# tsc (dev dependencies live and die there), the deps stage installs the production
# dependencies from the lockfile, and the final stage copies the two together and runs
# as a non-root user. Nothing is written at run time outside /tmp (the webhook serving
# certificates are mounted under /tmp/k8s-webhook-server/serving-certs), so the
# container runs with readOnlyRootFilesystem: true.

# Pinned by tag; the same Node as CI. Override with --build-arg NODE_IMAGE=… to use a
# mirror or a digest.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# package.json says "type": "module", which the compiled ES modules need.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The official image's "node" user, by number so Kubernetes can check runAsNonRoot.
USER 1000:1000
# The compiled form of bin/capmaas-manager.mjs: dist/cmd/manager.js runs the manager
# when loaded. No tsx, no sources, no npm at run time.
# The old-generation cap makes V8 collect before the heap doubles: the live heap with
# 10,000 MaasMachines is about 150 MiB, but bursts (creating them, a restart's lists) grew
# an uncapped heap past 400 MiB of RSS, near the Deployment's 512Mi limit (README,
# Performance). bench/provider*.ts runs the manager with these same flags.
ENTRYPOINT ["node", "--enable-source-maps", "--max-old-space-size=256", "dist/cmd/manager.js"]
