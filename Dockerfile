# ildflow: one image for the API and the workers (choose with `--role`).
# test/integration/production-install.int.test.ts reads this file and builds the same install without Docker
# (the build stage's COPY and RUN, then the runtime stage's files): keep the two in step.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY types ./types
COPY shared ./shared
COPY services ./services
COPY workers ./workers
COPY tools ./tools
COPY bin ./bin
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production ILDFLOW_HOST=0.0.0.0 ILDFLOW_DATA_DIR=/var/lib/ildflow
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY package.json ./
RUN mkdir -p /var/lib/ildflow && chown node:node /var/lib/ildflow
USER node
EXPOSE 8080
ENTRYPOINT ["node", "bin/ildflow.js"]
CMD ["start"]
