/* SPDX-License-Identifier: MIT */
/*
 * Local processes: monitors and handles.
 *
 * A Linux process that holds a name or a membership is watched with a
 * pidfd in the control thread's epoll set: the pidfd names that very
 * process, so a pid reused by another process is never mistaken for it.
 * A pidfd tells that a process ended, not how, and waitid() answers only a
 * parent; the exit status comes from the kernel's process-events connector
 * (needs CAP_NET_ADMIN), whose exit event carries the wait status of any
 * process. When the pidfd fires first, the death waits up to
 * SN_EXIT_STATUS_WAIT_NS for the status, then goes out with reason
 * "undefined". A handle is a process that a client creates: it lives until
 * closed or until its connection goes.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core_internal.h"

#define SN_EXIT_STATUS_WAIT_NS (100u * 1000 * 1000)

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The procs table maps a local id to its record. The record belongs to the
 * control thread; other threads read only the value's copy of the start
 * time, which never changes for the object's life.
 */
struct proc_val {
	struct sn_proc *p;
	uint64_t start_time;
};

static int
procs_insert(struct synode *n, struct sn_proc *p)
{
	struct proc_val v = { p, p->start_time };

	return rtab_set_insert_new(n->procs, &p->id, sizeof(p->id), &v, sizeof(v));
}

struct sn_proc *
sn_proc_find(struct synode *n, uint64_t id)
{
	const struct rtab_obj *o;
	struct proc_val v = { NULL, 0 };

	urcu_memb_read_lock();
	o = rtab_set_lookup(n->procs, &id, sizeof(id));
	if (o != NULL)
		memcpy(&v, rtab_obj_value(o), sizeof(v));
	urcu_memb_read_unlock();
	return v.p;
}

static int read_stat(pid_t pid, uint64_t *start, bool *zombie);

bool
sn_pid_maybe_alive(struct synode *n, const struct synode_pid *pid)
{
	const struct rtab_obj *o;
	struct proc_val v;
	uint64_t start;
	bool zombie;

	if (!sn_pid_is_local(n, pid))
		return true;
	urcu_memb_read_lock();
	o = rtab_set_lookup(n->procs, &pid->id, sizeof(pid->id));
	if (o != NULL)
		memcpy(&v, rtab_obj_value(o), sizeof(v));
	urcu_memb_read_unlock();
	if (pid->id >= SYNODE_HANDLE_ID_BASE)
		return o != NULL;  /* a handle's record exists exactly while it lives */
	if (pid->id == 0 || pid->id > INT32_MAX ||
	    read_stat((pid_t)pid->id, &start, &zombie) != 0 || zombie)
		return false;
	/* the process we watch, not another one that took its pid */
	return o == NULL || v.start_time == start;
}

/* starttime of /proc/PID/stat (field 22), and whether it is a zombie. */
static int
read_stat(pid_t pid, uint64_t *start, bool *zombie)
{
	char path[64], buf[1024];
	FILE *f;
	char *p;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces and parens */
	if (p == NULL || p[1] != ' ')
		return -EINVAL;
	*zombie = p[2] == 'Z' || p[2] == 'X';
	/* after ") " come fields 3.. ; starttime is field 22 */
	p += 2;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return -EINVAL;
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return 0;
}

static bool
pidfd_fired(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

static void proc_die(struct synode *n, struct sn_proc *p);

static void
on_pidfd(struct synode *n, int fd, uint32_t events, void *arg);

static void
proc_drop(struct synode *n, struct sn_proc *p)
{
	if (p->pidfd >= 0) {
		sn_loop_del(n, p->pidfd);
		close(p->pidfd);
		atomic_fetch_sub_explicit(&n->st_monitors, 1, memory_order_relaxed);
	}
	(void)rtab_set_delete(n->procs, &p->id, sizeof(p->id));
	free(p);
}

bool
sn_proc_alive(struct synode *n, uint64_t id)
{
	struct sn_proc *p = sn_proc_find(n, id);
	uint64_t start;
	bool zombie;

	if (p != NULL && p->dying)
		return false;
	if (id >= SYNODE_HANDLE_ID_BASE)
		return p != NULL;
	if (p != NULL && !p->exited && !pidfd_fired(p->pidfd))
		return true;
	if (id == 0 || id > INT32_MAX ||
	    read_stat((pid_t)id, &start, &zombie) != 0 || zombie)
		return false;
	/* the watched process is gone: alive only if another took its pid */
	return p == NULL || start != p->start_time;
}

int
sn_proc_ref(struct synode *n, uint64_t id)
{
	struct sn_proc *p = sn_proc_find(n, id);
	uint64_t start;
	bool zombie;
	int rc;

	if (p != NULL && p->dying)
		return -SYNODE_ENOT_ALIVE;
	if (p != NULL && !p->is_handle && (p->exited || pidfd_fired(p->pidfd))) {
		/* that process is gone, maybe with its pid reused: finish it first */
		p->exited = true;
		proc_die(n, p);
		p = NULL;
	}
	if (p != NULL) {
		p->refs++;
		return 0;
	}
	if (id >= SYNODE_HANDLE_ID_BASE || id == 0 || id > INT32_MAX)
		return -SYNODE_ENOT_ALIVE;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	p->id = id;
	p->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)id, 0);
	if (p->pidfd < 0) {
		rc = errno == ESRCH ? -SYNODE_ENOT_ALIVE : -errno;
		free(p);
		return rc;
	}
	if (read_stat((pid_t)id, &start, &zombie) != 0 || zombie) {
		close(p->pidfd);
		free(p);
		return -SYNODE_ENOT_ALIVE;
	}
	p->start_time = start;
	rc = sn_loop_add(n, p->pidfd, EPOLLIN, on_pidfd, (void *)(uintptr_t)id);
	if (rc == 0) {
		rc = procs_insert(n, p);
		if (rc != 0)
			sn_loop_del(n, p->pidfd);
	}
	if (rc != 0) {
		close(p->pidfd);
		free(p);
		return rc;
	}
	atomic_fetch_add_explicit(&n->st_monitors, 1, memory_order_relaxed);
	p->refs = 1;
	return 0;
}

void
sn_proc_unref(struct synode *n, uint64_t id)
{
	struct sn_proc *p = sn_proc_find(n, id);

	if (p == NULL || p->refs == 0)
		return;
	if (--p->refs == 0 && !p->is_handle)
		proc_drop(n, p);
}

void
sn_proc_purge(struct synode *n, const struct synode_pid *pid,
	      const struct synode_reason *reason)
{
	size_t count;
	struct sn_scope **all = sn_scopes_all(n, &count);

	for (size_t i = 0; i < count; i++) {
		sn_reg_purge_pid(n, all[i], pid, reason);
		sn_pg_purge_pid(n, all[i], pid, reason);
	}
	free(all);
}

static void
proc_die(struct synode *n, struct sn_proc *p)
{
	struct synode_reason reason = { SYNODE_REASON_UNDEFINED, 0 };
	struct synode_pid pid;

	p->dying = true;
	if (p->have_status) {
		if (WIFSIGNALED(p->status)) {
			reason.kind = SYNODE_REASON_SIGNAL;
			reason.code = WTERMSIG(p->status);
		} else if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0) {
			reason.kind = SYNODE_REASON_NORMAL;
		} else if (WIFEXITED(p->status)) {
			reason.kind = SYNODE_REASON_EXIT;
			reason.code = WEXITSTATUS(p->status);
		}
	}
	synode_pid_os(n, (pid_t)p->id, &pid);
	sn_log(n, SYNODE_LOG_DEBUG, "process %" PRIu64 " exited (status %d%s)", p->id,
	       p->status, p->have_status ? "" : ", unknown");
	sn_proc_purge(n, &pid, &reason);
	proc_drop(n, p);
}

/* ------------------------------------------------------- proc connector */

static void
on_connector(struct synode *n, int fd, uint32_t events, void *arg)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));

	(void)events;
	(void)arg;
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (len <= 0)
			return;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			struct cn_msg *cm = NLMSG_DATA(h);
			struct proc_event ev; /* follows a 20-byte header: copy to align */
			struct sn_proc *p;
			uint64_t id;

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*cm) + sizeof(ev)))
				continue;
			memcpy(&ev, cm->data, sizeof(ev));
			if (ev.what != PROC_EVENT_EXIT ||
			    ev.event_data.exit.process_pid != ev.event_data.exit.process_tgid)
				continue;
			id = (uint64_t)ev.event_data.exit.process_pid;
			p = sn_proc_find(n, id);
			if (p == NULL || p->is_handle || p->have_status)
				continue;
			p->have_status = true;
			p->status = (int)ev.event_data.exit.exit_code;
			if (p->exited)
				proc_die(n, p);
		}
	}
}

static void
on_pidfd(struct synode *n, int fd, uint32_t events, void *arg)
{
	uint64_t id = (uintptr_t)arg;
	struct sn_proc *p;

	(void)events;
	if (n->cnfd >= 0)
		on_connector(n, n->cnfd, EPOLLIN, NULL); /* the status may be waiting */
	p = sn_proc_find(n, id);
	if (p == NULL || p->pidfd != fd || p->exited)
		return;
	p->exited = true;
	p->exited_at_ns = mono_ns();
	/* a fired pidfd stays readable: stop watching it (closed in proc_drop) */
	sn_loop_del(n, fd);
	if (p->have_status || n->cnfd < 0)
		proc_die(n, p);
}

struct tick_ctx {
	uint64_t now;
	uint64_t ids[64];
	unsigned n;
};

static int
find_overdue(const struct rtab_obj *o, void *arg)
{
	struct tick_ctx *t = arg;
	struct proc_val v;
	struct sn_proc *p;

	memcpy(&v, rtab_obj_value(o), sizeof(v));
	p = v.p;
	if (p->exited && !p->have_status && t->now - p->exited_at_ns > SN_EXIT_STATUS_WAIT_NS)
		t->ids[t->n++] = p->id;
	return t->n == 64;
}

void
sn_proc_tick(struct synode *n)
{
	struct tick_ctx t = { .now = mono_ns() };

	if (atomic_load_explicit(&n->st_monitors, memory_order_relaxed) == 0)
		return;
	urcu_memb_read_lock();
	rtab_set_foreach(n->procs, find_overdue, &t);
	urcu_memb_read_unlock();
	for (unsigned i = 0; i < t.n; i++) {
		struct sn_proc *p = sn_proc_find(n, t.ids[i]);

		if (p != NULL)
			proc_die(n, p);
	}
}

static int
connector_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	/* nlmsghdr, cn_msg (a flexible struct), then the operation */
	char req[NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op))]
		__attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h = (struct nlmsghdr *)req;
	struct cn_msg *cm = NLMSG_DATA(h);
	enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
	int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			NETLINK_CONNECTOR);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail;
	memset(req, 0, sizeof(req));
	h->nlmsg_len = sizeof(req);
	h->nlmsg_type = NLMSG_DONE;
	cm->id.idx = CN_IDX_PROC;
	cm->id.val = CN_VAL_PROC;
	cm->len = sizeof(op);
	memcpy(cm->data, &op, sizeof(op));
	if (send(fd, req, sizeof(req), 0) != (ssize_t)sizeof(req))
		goto fail;
	return fd;
fail:
	close(fd);
	return -errno;
}

int
sn_proc_init(struct synode *n)
{
	int rc;

	n->procs = rtab_set_create(NULL);
	if (n->procs == NULL)
		return -errno;
	n->cnfd = connector_open();
	if (n->cnfd < 0) {
		sn_log(n, SYNODE_LOG_WARNING,
		       "no process-events connector (%s): exit reasons will be \"undefined\"",
		       strerror(-n->cnfd));
		n->cnfd = -1;
		return 0;
	}
	rc = sn_loop_add(n, n->cnfd, EPOLLIN, on_connector, NULL);
	if (rc != 0) {
		close(n->cnfd);
		n->cnfd = -1;
	}
	return 0;
}

static int
collect_proc(const struct rtab_obj *o, void *arg)
{
	struct sn_proc ***out = arg;
	struct proc_val v;

	memcpy(&v, rtab_obj_value(o), sizeof(v));
	*(*out)++ = v.p;
	return 0;
}

/* Every record, in a malloc'd array (NULL-terminated). */
static struct sn_proc **
procs_all(struct synode *n)
{
	struct sn_proc **all = calloc(rtab_set_count(n->procs) + 1, sizeof(*all));
	struct sn_proc **cur = all;

	if (all == NULL)
		return NULL;
	urcu_memb_read_lock();
	rtab_set_foreach(n->procs, collect_proc, &cur);
	urcu_memb_read_unlock();
	return all;
}

void
sn_proc_fini(struct synode *n)
{
	struct sn_proc **all;

	if (n->procs != NULL) {
		all = procs_all(n);
		for (size_t i = 0; all != NULL && all[i] != NULL; i++) {
			if (all[i]->pidfd >= 0)
				close(all[i]->pidfd);
			free(all[i]);
		}
		free(all);
		rtab_set_free(n->procs);
		n->procs = NULL;
	}
	if (n->cnfd >= 0)
		close(n->cnfd);
	n->cnfd = -1;
}

/* ---------------------------------------------------------------- handles */

void
synode_pid_os(const struct synode *n, pid_t os_pid, struct synode_pid *pid)
{
	pid->id = (uint64_t)os_pid;
	memcpy(pid->node, n->name, n->name_len + 1);
}

int
sn_handle_new(struct synode *n, const struct sn_origin *o, struct synode_pid *pid)
{
	struct sn_proc *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL)
		return -ENOMEM;
	p->id = n->next_handle++;
	p->pidfd = -1;
	p->is_handle = true;
	p->owner_conn = o->conn;
	rc = procs_insert(n, p);
	if (rc != 0) {
		free(p);
		return rc;
	}
	pid->id = p->id;
	memcpy(pid->node, n->name, n->name_len + 1);
	return 0;
}

int
sn_handle_close(struct synode *n, const struct sn_origin *o, const struct synode_pid *pid)
{
	static const struct synode_reason normal = { SYNODE_REASON_NORMAL, 0 };
	struct sn_proc *p;

	if (!sn_pid_is_local(n, pid) || pid->id < SYNODE_HANDLE_ID_BASE)
		return -SYNODE_EUNDEFINED;
	p = sn_proc_find(n, pid->id);
	if (p == NULL || !p->is_handle)
		return -SYNODE_EUNDEFINED;
	if (p->owner_conn != o->conn)
		return -SYNODE_ENOT_SELF;
	if (p->dying)
		return 0;  /* closed from an event of its own purge */
	p->dying = true;
	sn_proc_purge(n, pid, &normal);
	proc_drop(n, p);
	return 0;
}

void
sn_origin_gone(struct synode *n, const struct sn_origin *o)
{
	struct sn_proc **all = procs_all(n);

	for (size_t i = 0; all != NULL && all[i] != NULL; i++) {
		struct synode_pid pid;

		if (!all[i]->is_handle || all[i]->owner_conn != o->conn)
			continue;
		pid.id = all[i]->id;
		memcpy(pid.node, n->name, n->name_len + 1);
		(void)sn_handle_close(n, o, &pid);
	}
	free(all);
}

struct handle_args {
	struct synode_pid *pid;
	const struct synode_pid *cpid;
};

static int
call_handle_new(struct synode *n, void *args)
{
	return sn_handle_new(n, &n->embedder, ((struct handle_args *)args)->pid);
}

static int
call_handle_close(struct synode *n, void *args)
{
	return sn_handle_close(n, &n->embedder, ((struct handle_args *)args)->cpid);
}

int
synode_handle_new(struct synode *n, struct synode_pid *pid)
{
	struct handle_args a = { .pid = pid };

	if (n == NULL || pid == NULL)
		return -EINVAL;
	return sn_call(n, call_handle_new, &a);
}

int
synode_handle_close(struct synode *n, const struct synode_pid *pid)
{
	struct handle_args a = { .cpid = pid };

	if (n == NULL || pid == NULL)
		return -EINVAL;
	return sn_call(n, call_handle_close, &a);
}
