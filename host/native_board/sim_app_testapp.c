/*
 * sim_app over tests/link_c/test_app.h (the link tests' mock application, or any other
 * implementation of that interface). The mock has no live audio path: live samples only count.
 */
#include "sim_app.h"

#include "test_app.h"

typedef struct {
    void *app;
    uint32_t overruns;
} wrap_t;

static wrap_t *wrap_of(void *app)
{
    return (wrap_t *)app;
}

size_t sim_app_size(void)
{
    /* the test app's instance follows the wrapper, aligned like malloc's memory */
    return sizeof(wrap_t) + 16u + test_app_size();
}

int sim_app_boot(void *app, uint8_t *storage, uint16_t storage_size, sim_app_sink_fn sink,
                 void *sink_ctx)
{
    wrap_t *w = wrap_of(app);
    uintptr_t p = (uintptr_t)((uint8_t *)app + sizeof(wrap_t));
    p = (p + 15u) & ~(uintptr_t)15u;
    w->app = (void *)p;
    w->overruns = 0; /* counted since boot */
    if (test_app_boot(w->app, storage, storage_size, sink, sink_ctx) != ORGAN_LINK_OK) {
        return 1;
    }
    test_app_set_overruns(w->app, w->overruns);
    return 0;
}

void sim_app_feed(void *app, const uint8_t *data, size_t n)
{
    organ_link_feed(test_app_link(wrap_of(app)->app), data, n);
}

void sim_app_poll(void *app, uint32_t now_ms)
{
    organ_link_poll_levels(test_app_link(wrap_of(app)->app), (uint16_t)now_ms);
}

void sim_app_live(void *app, const int16_t *x, size_t n)
{
    (void)app;
    (void)x;
    (void)n;
}

void sim_app_add_overruns(void *app, uint32_t n)
{
    wrap_t *w = wrap_of(app);
    w->overruns += n;
    test_app_set_overruns(w->app, w->overruns);
}

int sim_app_reboot_requested(void *app)
{
    return test_app_reboot_requested(wrap_of(app)->app);
}
