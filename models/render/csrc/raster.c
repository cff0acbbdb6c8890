/* Tile rasteriser for the CPU: the same compositing rules as models/render/cpu_rasterizer.py
 * (and gsplat's "classic" mode), written as loops so a pixel stops at the first Gaussian that
 * makes it opaque, which the vectorised torch path cannot do.
 *
 * Inputs are the projected Gaussians already sorted front to back (depth order), so every tile's
 * list, filled in input order, is front to back too. Each Gaussian comes with its pixel box
 * [x0, x1) x [y0, y1) (the opacity-aware 3.33-sigma box of projection.py); a pixel outside the
 * box is not touched even where the Gaussian would still be above the alpha threshold, exactly
 * as in the torch path. Pixel centres sit at +0.5.
 *
 * Threads: tiles are handed out by an atomic counter to `threads` POSIX threads (no OpenMP, so
 * no second OpenMP runtime next to torch's). Built and loaded by models/render/native.py with the system C
 * compiler; without one the torch rasteriser renders instead.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TILE 16

typedef struct {
    int64_t m, d, c, width, height, tiles_x, tiles_y;
    const float *means2d, *conics, *log_opac, *feats;
    const int32_t *boxes, *labels;
    const int64_t *tile_start;
    const int32_t *tile_ids;
    float log_255, max_alpha, t_stop;
    float *acc, *alpha, *cls;
    int64_t next_tile; /* shared work counter */
} Job;

static void render_tile(const Job *j, int64_t tile) {
    /* Gaussian-major inside the tile: each Gaussian (front to back) visits only the pixels of its
     * box, so the work follows the candidate pairs, not pixels x list length; a pixel that is done
     * (its transmittance would pass the stop) is skipped, and the tile ends when all are done. */
    const int64_t tx = tile % j->tiles_x, ty = tile / j->tiles_x;
    const int64_t px0 = tx * TILE, py0 = ty * TILE;
    const int64_t px1 = px0 + TILE < j->width ? px0 + TILE : j->width;
    const int64_t py1 = py0 + TILE < j->height ? py0 + TILE : j->height;
    const int32_t *ids = j->tile_ids + j->tile_start[tile];
    const int64_t n = j->tile_start[tile + 1] - j->tile_start[tile];
    float T[TILE * TILE];
    unsigned char done[TILE * TILE];
    int64_t open = (px1 - px0) * (py1 - py0);
    for (int i = 0; i < TILE * TILE; ++i) T[i] = 1.0f, done[i] = 0;
    for (int64_t k = 0; k < n && open > 0; ++k) {
        const int32_t g = ids[k];
        const int32_t *b = j->boxes + 4 * (int64_t)g;
        const int64_t x0 = b[0] > px0 ? b[0] : px0, x1 = b[1] < px1 ? b[1] : px1;
        const int64_t y0 = b[2] > py0 ? b[2] : py0, y1 = b[3] < py1 ? b[3] : py1;
        const float mx = j->means2d[2 * g], my = j->means2d[2 * g + 1];
        const float *con = j->conics + 3 * (int64_t)g;
        const float lo = j->log_opac[g];
        const float *f = j->feats + g * j->d;
        const int32_t label = j->labels ? j->labels[g] : 0;
        for (int64_t py = y0; py < y1; ++py) {
            const float dy = my - (float)py - 0.5f;
            const float row = 0.5f * con[2] * dy * dy - lo;
            for (int64_t px = x0; px < x1; ++px) {
                const int local = (int)((py - py0) * TILE + (px - px0));
                if (done[local]) continue;
                const float dx = mx - (float)px - 0.5f;
                const float t = 0.5f * con[0] * dx * dx + con[1] * dx * dy + row;
                if (t > j->log_255) continue; /* alpha below 1/255 */
                float a = expf(-t);
                if (a > j->max_alpha) a = j->max_alpha;
                const float next_t = T[local] * (1.0f - a);
                if (next_t <= j->t_stop) { /* this pair would take T past the stop: the pixel is done */
                    done[local] = 1;
                    --open;
                    continue;
                }
                const float w = a * T[local];
                const int64_t pix = py * j->width + px;
                float *acc = j->acc + pix * j->d;
                for (int64_t e = 0; e < j->d; ++e) acc[e] += w * f[e];
                j->alpha[pix] += w;
                if (j->cls) j->cls[pix * j->c + label] += w;
                T[local] = next_t;
            }
        }
    }
}

static void *worker(void *arg) {
    Job *j = (Job *)arg;
    const int64_t tiles = j->tiles_x * j->tiles_y;
    for (;;) {
        const int64_t tile = __atomic_fetch_add(&j->next_tile, 1, __ATOMIC_RELAXED);
        if (tile >= tiles) return NULL;
        render_tile(j, tile);
    }
}

/* Returns 0 on success, -1 when memory ran out. acc [H*W, d], alpha [H*W], cls [H*W, c] (or NULL)
 * must be zeroed by the caller. */
int perchead_rasterize(int64_t m, const float *means2d, const float *conics, const float *log_opac,
                       const int32_t *boxes, const float *feats, int64_t d, const int32_t *labels, int64_t c,
                       int64_t width, int64_t height, float log_255, float max_alpha, float t_stop,
                       float *acc, float *alpha, float *cls, int threads) {
    const int64_t tiles_x = (width + TILE - 1) / TILE, tiles_y = (height + TILE - 1) / TILE;
    const int64_t tiles = tiles_x * tiles_y;
    int64_t *start = calloc((size_t)tiles + 1, sizeof(int64_t));
    if (!start) return -1;
    /* count the tiles each box touches, then fill the lists in input (depth) order */
    for (int64_t g = 0; g < m; ++g) {
        const int32_t *b = boxes + 4 * g;
        if (b[1] <= b[0] || b[3] <= b[2]) continue;
        for (int64_t ty = b[2] / TILE; ty <= (b[3] - 1) / TILE; ++ty)
            for (int64_t tx = b[0] / TILE; tx <= (b[1] - 1) / TILE; ++tx) start[ty * tiles_x + tx + 1]++;
    }
    for (int64_t t = 0; t < tiles; ++t) start[t + 1] += start[t];
    int32_t *ids = malloc((size_t)(start[tiles] > 0 ? start[tiles] : 1) * sizeof(int32_t));
    int64_t *fill = malloc((size_t)tiles * sizeof(int64_t));
    if (!ids || !fill) {
        free(start), free(ids), free(fill);
        return -1;
    }
    memcpy(fill, start, (size_t)tiles * sizeof(int64_t));
    for (int64_t g = 0; g < m; ++g) {
        const int32_t *b = boxes + 4 * g;
        if (b[1] <= b[0] || b[3] <= b[2]) continue;
        for (int64_t ty = b[2] / TILE; ty <= (b[3] - 1) / TILE; ++ty)
            for (int64_t tx = b[0] / TILE; tx <= (b[1] - 1) / TILE; ++tx) ids[fill[ty * tiles_x + tx]++] = (int32_t)g;
    }
    free(fill);
    Job job = {m, d, c, width, height, tiles_x, tiles_y, means2d, conics, log_opac, feats, boxes, labels,
               start, ids, log_255, max_alpha, t_stop, acc, alpha, cls, 0};
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    pthread_t pool[64];
    int started = 0;
    for (int i = 1; i < threads; ++i)
        if (pthread_create(&pool[started], NULL, worker, &job) == 0) started++;
    worker(&job); /* this thread works too */
    for (int i = 0; i < started; ++i) pthread_join(pool[i], NULL);
    free(start), free(ids);
    return 0;
}
