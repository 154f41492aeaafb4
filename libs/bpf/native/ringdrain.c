// SPDX-License-Identifier: Apache-2.0
/*
 * Batched ring-buffer drain for libs/bpf (RingBufferReader). A libbpf sample callback into JavaScript costs
 * ~1.3 us per record; here the callback is C and copies each record into a buffer the caller owns, so Node pays
 * one FFI call per batch.
 *
 * Output framing (the contract with ring-buffer-reader.ts): records back to back, each
 *     u32 length | u32 reserved (0) | length bytes | zero padding to a multiple of 8
 * so every record starts 8-byte aligned.
 *
 * Threads: ringdrain_wait() blocks and is meant for a worker thread (koffi async call); every other function
 * runs on the caller's (main) thread, and never while a wait on the same handle may still return except
 * ringdrain_wake(), which only writes an eventfd.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <bpf/libbpf.h>

/* Returned by the sample callback to stop a drain when the caller's buffer is full. */
#define RINGDRAIN_FULL (-ENOSPC)

struct ringdrain {
	struct ring_buffer *rb;
	int epoll_fd;
	int wake_fd;
	uint8_t *out;
	size_t cap;
	size_t used;
	uint32_t count;
	/* libbpf has already consumed the record that did not fit when the callback stops a drain: kept here. */
	uint8_t *spill;
	size_t spill_len;
	size_t spill_cap;
	int has_spill;
	uint64_t oversize; /* records larger than the caller's whole buffer: dropped and counted */
};

static size_t framed_size(size_t len)
{
	return 8 + ((len + 7) & ~(size_t)7);
}

static int append(struct ringdrain *d, const void *data, size_t len)
{
	size_t need = framed_size(len);
	uint8_t *p;

	if (d->used + need > d->cap)
		return -1;
	p = d->out + d->used;
	((uint32_t *)p)[0] = (uint32_t)len;
	((uint32_t *)p)[1] = 0;
	memcpy(p + 8, data, len);
	memset(p + 8 + len, 0, need - 8 - len);
	d->used += need;
	d->count++;
	return 0;
}

static int on_sample(void *ctx, void *data, size_t len)
{
	struct ringdrain *d = ctx;

	if (append(d, data, len) == 0)
		return 0;
	if (framed_size(len) > d->cap) {
		d->oversize++;
		return 0;
	}
	if (len > d->spill_cap) {
		uint8_t *bigger = realloc(d->spill, len);

		if (!bigger) {
			d->oversize++;
			return RINGDRAIN_FULL;
		}
		d->spill = bigger;
		d->spill_cap = len;
	}
	memcpy(d->spill, data, len);
	d->spill_len = len;
	d->has_spill = 1;
	return RINGDRAIN_FULL;
}

/* Returns a handle, or NULL with errno set. */
struct ringdrain *ringdrain_new(int map_fd)
{
	struct ringdrain *d = calloc(1, sizeof(*d));
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	if (!d)
		return NULL;
	d->epoll_fd = -1;
	d->wake_fd = -1;
	d->rb = ring_buffer__new(map_fd, on_sample, d, NULL);
	if (!d->rb)
		goto fail;
	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->epoll_fd < 0 || d->wake_fd < 0)
		goto fail;
	/* The ring's own fd is pollable and level-triggered: readable while unconsumed data is in the ring. */
	ev.data.u32 = 1;
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, map_fd, &ev) < 0)
		goto fail;
	ev.data.u32 = 2;
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->wake_fd, &ev) < 0)
		goto fail;
	return d;
fail:
	err = errno;
	if (d->rb)
		ring_buffer__free(d->rb);
	if (d->epoll_fd >= 0)
		close(d->epoll_fd);
	if (d->wake_fd >= 0)
		close(d->wake_fd);
	free(d);
	errno = err;
	return NULL;
}

/*
 * Blocks up to timeout_ms (-1: forever) until the ring has data or ringdrain_wake() is called.
 * Returns 1 when data is ready, 2 when woken, 0 on timeout or signal, -errno on failure.
 */
int ringdrain_wait(struct ringdrain *d, int timeout_ms)
{
	struct epoll_event evs[2];
	int n = epoll_wait(d->epoll_fd, evs, 2, timeout_ms);
	int result = 0;

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		if (evs[i].data.u32 == 2) {
			uint64_t v;

			if (read(d->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return -errno;
			result = 2;
		} else if (result == 0) {
			result = 1;
		}
	}
	return result;
}

/* Makes a pending or the next ringdrain_wait() return 2 at once. Safe from any thread. */
int ringdrain_wake(struct ringdrain *d)
{
	uint64_t one = 1;

	return write(d->wake_fd, &one, sizeof(one)) < 0 ? -errno : 0;
}

/*
 * Moves as many records as fit into out[0..cap) without blocking. Returns the bytes written (0 when the ring is
 * empty) or -errno; ringdrain_count() then tells how many records they hold.
 */
int64_t ringdrain_drain(struct ringdrain *d, uint8_t *out, size_t cap)
{
	int err;

	d->out = out;
	d->cap = cap;
	d->used = 0;
	d->count = 0;
	if (d->has_spill) {
		if (append(d, d->spill, d->spill_len) != 0) {
			if (framed_size(d->spill_len) <= cap)
				return 0; /* unreachable: an empty buffer of this size holds it */
			d->oversize++;
		}
		d->has_spill = 0;
	}
	err = ring_buffer__consume(d->rb);
	d->out = NULL;
	if (err < 0 && err != RINGDRAIN_FULL)
		return err;
	return (int64_t)d->used;
}

uint32_t ringdrain_count(const struct ringdrain *d)
{
	return d->count;
}

uint64_t ringdrain_oversize(const struct ringdrain *d)
{
	return d->oversize;
}

void ringdrain_free(struct ringdrain *d)
{
	if (!d)
		return;
	ring_buffer__free(d->rb);
	close(d->epoll_fd);
	close(d->wake_fd);
	free(d->spill);
	free(d);
}
