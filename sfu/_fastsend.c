/* Native send path of the SFU: one call per forwarded copy does what Python did in
 * eight (copy the serialised packet, patch the RTP header and the VP8 picture id,
 * SRTP-protect it, sendto the subscriber's ICE socket).
 *
 * Why native: at 10 subscribers the per-copy Python (buffer copies, pylibsrtp's
 * wrapper, the event loop transport's sendto) cost more than the encryption and the
 * kernel's work together (docs/PERFORMANCE.md). The decisions (which packet, which
 * sequence number, when to switch) stay in Python; this file only writes bytes.
 *
 * SRTP is libsrtp's, reached through the function pointer and session that pylibsrtp
 * (aiortc's SRTP binding) already holds, so the keys never leave that session and no
 * second libsrtp is linked. sfu/fast_send.py checks the function's C type before use.
 * A send the kernel refuses (full buffer) is dropped, as a UDP socket would; the
 * subscriber's NACK asks again.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_PACKET 1600
#define SRTP_TRAILER 144 /* SRTP_MAX_TRAILER_LEN: auth tag + MKI */

typedef int (*protect_fn)(void *session, void *packet, int *length);

typedef struct {
    PyObject_HEAD
    int fd;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    void *session;
    protect_fn protect;
    PyObject *owner; /* keeps the pylibsrtp session (and so `session`) alive */
    unsigned long long sent;
    unsigned long long dropped;
    unsigned long long failed;
    unsigned long long oversized;
} Route;

static int
parse_address(Route *self, const char *host, int port)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)&self->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&self->addr;
    memset(&self->addr, 0, sizeof(self->addr));
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        self->addr_len = sizeof(*v4);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        self->addr_len = sizeof(*v6);
        return 0;
    }
    PyErr_Format(PyExc_ValueError, "not a numeric IP address: %s", host);
    return -1;
}

static int
Route_init(Route *self, PyObject *args, PyObject *kwds)
{
    static char *keywords[] = {"fd", "host", "port", "session", "protect", "owner", NULL};
    int fd, port;
    const char *host;
    unsigned long long session, protect;
    PyObject *owner;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "isiKKO", keywords, &fd, &host, &port,
                                     &session, &protect, &owner))
        return -1;
    if (fd < 0 || port <= 0 || port > 65535 || !session || !protect) {
        PyErr_SetString(PyExc_ValueError, "bad fd, port, session or protect function");
        return -1;
    }
    if (parse_address(self, host, port) < 0)
        return -1;
    self->fd = fd;
    self->session = (void *)(uintptr_t)session;
    self->protect = (protect_fn)(uintptr_t)protect;
    Py_INCREF(owner);
    Py_XSETREF(self->owner, owner);
    return 0;
}

static void
Route_dealloc(Route *self)
{
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Protect `length` bytes in `buf` (which has room for the trailer) and send them. */
static PyObject *
protect_and_send(Route *self, unsigned char *buf, int length)
{
    if (self->protect(self->session, buf, &length) != 0) {
        self->failed++;
        Py_RETURN_FALSE;
    }
    ssize_t n = sendto(self->fd, buf, (size_t)length, MSG_DONTWAIT | MSG_NOSIGNAL,
                       (struct sockaddr *)&self->addr, self->addr_len);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
            self->dropped++;
        else
            self->failed++;
        Py_RETURN_FALSE;
    }
    self->sent++;
    Py_RETURN_TRUE;
}

/* 0: copied; 1: too long to send (a publisher's oversized packet: dropped and counted,
 * so one bad packet never costs a subscriber its stream); -1: error set. */
static int
copy_packet(Route *self, PyObject *data, unsigned char *buf, Py_ssize_t *length)
{
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
        return -1;
    if (view.len > MAX_PACKET) {
        PyBuffer_Release(&view);
        self->oversized++;
        return 1;
    }
    if (view.len < 12) {
        PyBuffer_Release(&view);
        PyErr_Format(PyExc_ValueError, "RTP packet of %zd bytes (at least 12)", view.len);
        return -1;
    }
    memcpy(buf, view.buf, (size_t)view.len);
    *length = view.len;
    PyBuffer_Release(&view);
    return 0;
}

/* send(data, header_len, pt, seq, ts, ssrc, pid_at, pid_bits, pid, tl0_at, tl0) -> bool
 * pid_at/tl0_at are offsets in the payload (after header_len), -1 for none. */
static PyObject *
Route_send(Route *self, PyObject *const *args, Py_ssize_t nargs)
{
    unsigned char buf[MAX_PACKET + SRTP_TRAILER];
    Py_ssize_t length;
    long v[10];
    if (nargs != 11) {
        PyErr_SetString(PyExc_TypeError, "send() takes 11 arguments");
        return NULL;
    }
    for (int i = 0; i < 10; i++) {
        v[i] = PyLong_AsLong(args[i + 1]);
        if (v[i] == -1 && PyErr_Occurred())
            return NULL;
    }
    int copied = copy_packet(self, args[0], buf, &length);
    if (copied != 0)
        return copied < 0 ? NULL : Py_NewRef(Py_False);
    long header_len = v[0], pid_at = v[5], pid_bits = v[6], tl0_at = v[8];
    if (header_len < 12 || header_len > length) {
        PyErr_SetString(PyExc_ValueError, "header length outside the packet");
        return NULL;
    }
    buf[1] = (unsigned char)((buf[1] & 0x80) | (v[1] & 0x7F));
    uint16_t seq = htons((uint16_t)v[2]);
    uint32_t ts = htonl((uint32_t)v[3]);
    uint32_t ssrc = htonl((uint32_t)v[4]);
    memcpy(buf + 2, &seq, 2);
    memcpy(buf + 4, &ts, 4);
    memcpy(buf + 8, &ssrc, 4);
    if (pid_at >= 0) {
        long at = header_len + pid_at, pid = v[7];
        if (at + (pid_bits == 15 ? 2 : 1) > length) {
            PyErr_SetString(PyExc_ValueError, "picture id outside the packet");
            return NULL;
        }
        if (pid_bits == 15) {
            buf[at] = (unsigned char)(0x80 | ((pid >> 8) & 0x7F));
            buf[at + 1] = (unsigned char)(pid & 0xFF);
        } else {
            buf[at] = (unsigned char)(pid & 0x7F);
        }
    }
    if (tl0_at >= 0) {
        long at = header_len + tl0_at;
        if (at >= length) {
            PyErr_SetString(PyExc_ValueError, "TL0PICIDX outside the packet");
            return NULL;
        }
        buf[at] = (unsigned char)(v[9] & 0xFF);
    }
    return protect_and_send(self, buf, (int)length);
}

/* send_raw(data) -> bool: protect and send a packet already in its final form. */
static PyObject *
Route_send_raw(Route *self, PyObject *data)
{
    unsigned char buf[MAX_PACKET + SRTP_TRAILER];
    Py_ssize_t length;
    int copied = copy_packet(self, data, buf, &length);
    if (copied != 0)
        return copied < 0 ? NULL : Py_NewRef(Py_False);
    return protect_and_send(self, buf, (int)length);
}

static PyMethodDef Route_methods[] = {
    {"send", (PyCFunction)(void (*)(void))Route_send, METH_FASTCALL,
     "send(data, header_len, pt, seq, ts, ssrc, pid_at, pid_bits, pid, tl0_at, tl0) -> bool"},
    {"send_raw", (PyCFunction)Route_send_raw, METH_O, "send_raw(data) -> bool"},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Route_members[] = {
    {"fd", T_INT, offsetof(Route, fd), READONLY, "the UDP socket"},
    {"owner", T_OBJECT, offsetof(Route, owner), READONLY, "the SRTP session object"},
    {"sent", T_ULONGLONG, offsetof(Route, sent), READONLY, "datagrams sent"},
    {"dropped", T_ULONGLONG, offsetof(Route, dropped), READONLY,
     "datagrams the kernel had no room for"},
    {"failed", T_ULONGLONG, offsetof(Route, failed), READONLY,
     "SRTP or socket errors"},
    {"oversized", T_ULONGLONG, offsetof(Route, oversized), READONLY,
     "packets longer than " Py_STRINGIFY(MAX_PACKET) " bytes, not sent"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject RouteType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "sfu._fastsend.Route",
    .tp_doc = "Route(fd, host, port, session, protect, owner): one subscriber's ICE pair "
              "and SRTP session",
    .tp_basicsize = sizeof(Route),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Route_init,
    .tp_dealloc = (destructor)Route_dealloc,
    .tp_methods = Route_methods,
    .tp_members = Route_members,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "sfu._fastsend", "Native per-copy send of the SFU.", -1, NULL,
};

PyMODINIT_FUNC
PyInit__fastsend(void)
{
    if (PyType_Ready(&RouteType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&RouteType);
    if (PyModule_AddObject(m, "Route", (PyObject *)&RouteType) < 0) {
        Py_DECREF(&RouteType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
