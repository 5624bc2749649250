/* news_archive._speedups: linking's per-pair loop, compiled.
 *
 * Optional: setup.py builds it where a C compiler is found; without it linking runs the
 * same loops in Python and numpy. ABI_VERSION says which functions and arguments this build
 * has: linking uses a build only when it is the version it expects (a stale build left in
 * the source tree by an older checkout is ignored). tests/unit/test_linking.py checks that
 * each function gives exactly what its pure form gives.
 *
 * scores: the sentence-by-sentence scores of linking.align. Its numpy form makes about 25
 * numpy calls per pair on arrays of a few hundred items, so the calls' overhead, not the
 * arithmetic, is most of its time. This computes the same scores in one pass: a merge join
 * of the two texts' stems (both sorted by stem), the shared weights summed into an ns x nl
 * table, then each short sentence's best match. The results are identical, not close:
 * weights are whole hundredths held in doubles, so every sum is exact in any order, and the
 * similarity and the 0.6 penalty are the same IEEE operations.
 *
 * csv_lines: rows as the CSV text COPY reads (store.db.csv_line's rules), UTF-8 bytes ready to
 * send. The loader's client encodes every article it loads; in Python that is a list, a
 * replace and a join per value and then a second pass to UTF-8, CPU the load shares a core
 * with while the other batch runs (make bench).
 *
 * (linking's token walk was tried here too: 11% off walk_body, the same output, but most
 * of its time is the regex and linking._token_info's cache, which stay; not worth the code.)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ABI_VERSION 2

/* A one-dimensional, C-contiguous buffer of `itemsize`-byte items of the kind `kinds` lists
 * (the last character of its struct format: "lq" 64-bit integers, "i" 32-bit, "d" doubles,
 * "?" booleans). */
static int get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, const char *kinds, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    const char *format = view->format ? view->format : "B";
    char kind = format[strlen(format) - 1];
    if (view->ndim != 1 || view->itemsize != itemsize || strchr(kinds, kind) == NULL) {
        PyErr_Format(PyExc_TypeError, "%s: expected a 1-d array of %zd-byte items of kind '%s', got '%s'",
                     what, itemsize, kinds, format);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* The next value two ascending arrays both hold, from positions (*a, *b) on: 1 and its runs,
 * x[*a .. *a_end) and y[*b .. *b_end); 0 when there is none (a merge join's step). */
static int common_run(const int64_t *x, Py_ssize_t nx, const int64_t *y, Py_ssize_t ny, Py_ssize_t *a,
                      Py_ssize_t *b, Py_ssize_t *a_end, Py_ssize_t *b_end)
{
    while (*a < nx && *b < ny && x[*a] != y[*b]) {
        if (x[*a] < y[*b])
            (*a)++;
        else
            (*b)++;
    }
    if (*a >= nx || *b >= ny)
        return 0;
    for (*a_end = *a; *a_end < nx && x[*a_end] == x[*a]; (*a_end)++)
        ;
    for (*b_end = *b; *b_end < ny && y[*b_end] == y[*b]; (*b_end)++)
        ;
    return 1;
}

/* 1, with a ValueError, where a sentence number of `index` is not below `sentences`. */
static int out_of_range(const int32_t *index, Py_ssize_t n, Py_ssize_t sentences, const char *what)
{
    for (Py_ssize_t k = 0; k < n; k++)
        if (index[k] < 0 || index[k] >= sentences) {
            PyErr_Format(PyExc_ValueError, "%s: sentence %d out of range", what, (int)index[k]);
            return 1;
        }
    return 0;
}

#define N_ARGS 15

static PyObject *scores(PyObject *self, PyObject *args)
{
    (void)self;
    static const char *names[N_ARGS] = {
        "short.sent", "short.stem", "short.weight", "short.plain", "short.total", "short.num_sent", "short.num",
        "short.text_id", "long.sent", "long.stem", "long.plain", "long.total", "long.num_sent", "long.num",
        "long.text_id"};
    static const Py_ssize_t sizes[N_ARGS] = {4, 8, 8, 1, 8, 4, 8, 8, 4, 8, 1, 8, 4, 8, 8};
    static const char *kinds[N_ARGS] = {"i", "lq", "d", "?", "d", "i", "lq", "lq", "i", "lq", "?", "d", "i", "lq",
                                        "lq"};
    PyObject *objs[N_ARGS];
    Py_buffer views[N_ARGS];
    int got = 0;
    PyObject *result = NULL;
    double *shared = NULL, *contained = NULL;
    int64_t *common = NULL;
    char *short_figures = NULL, *long_figures = NULL;

    if (!PyArg_UnpackTuple(args, "scores", N_ARGS, N_ARGS, &objs[0], &objs[1], &objs[2], &objs[3], &objs[4],
                           &objs[5], &objs[6], &objs[7], &objs[8], &objs[9], &objs[10], &objs[11], &objs[12],
                           &objs[13], &objs[14]))
        return NULL;
    for (; got < N_ARGS; got++)
        if (get_buffer(objs[got], &views[got], sizes[got], kinds[got], names[got]) < 0)
            goto done;

    const int32_t *s_sent = views[0].buf, *s_num_sent = views[5].buf, *l_sent = views[8].buf,
                  *l_num_sent = views[12].buf;
    const int64_t *s_stem = views[1].buf, *s_num = views[6].buf, *s_text = views[7].buf, *l_stem = views[9].buf,
                  *l_num = views[13].buf, *l_text = views[14].buf;
    const double *s_weight = views[2].buf, *s_total = views[4].buf, *l_total = views[11].buf;
    const char *s_plain = views[3].buf, *l_plain = views[10].buf;
    Py_ssize_t n_s = views[0].shape[0], n_l = views[8].shape[0];  /* stem entries */
    Py_ssize_t ns = views[4].shape[0], nl = views[11].shape[0];  /* sentences */
    Py_ssize_t nf_s = views[6].shape[0], nf_l = views[13].shape[0];  /* figure entries */
    if (views[1].shape[0] != n_s || views[2].shape[0] != n_s || views[3].shape[0] != n_s
        || views[9].shape[0] != n_l || views[10].shape[0] != n_l || views[5].shape[0] != nf_s
        || views[12].shape[0] != nf_l || views[7].shape[0] != ns || views[14].shape[0] != nl) {
        PyErr_SetString(PyExc_ValueError, "scores: arrays of one text disagree in length");
        goto done;
    }
    if (out_of_range(s_sent, n_s, ns, names[0]) || out_of_range(l_sent, n_l, nl, names[8])
        || out_of_range(s_num_sent, nf_s, ns, names[5]) || out_of_range(l_num_sent, nf_l, nl, names[12]))
        goto done;
    if (ns == 0 || nl == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }

    shared = calloc((size_t)(ns * nl), sizeof(double));
    contained = calloc((size_t)(ns * nl), sizeof(double));
    if (!shared || !contained) { PyErr_NoMemory(); goto done; }

    /* Each (short entry, long entry) with the same stem: the short entry's weight goes to
     * their sentences' cell; to the plain-words table too where both are plain. */
    Py_ssize_t matches = 0, a_end, b_end;
    for (Py_ssize_t a = 0, b = 0; common_run(s_stem, n_s, l_stem, n_l, &a, &b, &a_end, &b_end); a = a_end, b = b_end)
        for (Py_ssize_t i = a; i < a_end; i++)
            for (Py_ssize_t j = b; j < b_end; j++) {
                Py_ssize_t cell = (Py_ssize_t)s_sent[i] * nl + l_sent[j];
                shared[cell] += s_weight[i];
                if (s_plain[i] && l_plain[j])
                    contained[cell] += s_weight[i];
                matches++;
            }
    if (!matches) {  /* no stem in common: nothing aligns */
        result = Py_NewRef(Py_None);
        goto done;
    }

    /* shared weight -> sentence_similarity, in place */
    for (Py_ssize_t i = 0; i < ns; i++)
        for (Py_ssize_t j = 0; j < nl; j++) {
            double total = s_total[i] + l_total[j];
            Py_ssize_t cell = i * nl + j;
            shared[cell] = total > 0 ? 2 * shared[cell] / total : 0.0;
        }
    if (nf_s && nf_l) {  /* figures that disagree pull a pair apart (templated reports) */
        common = calloc((size_t)(ns * nl), sizeof(int64_t));
        short_figures = calloc((size_t)ns, 1);
        long_figures = calloc((size_t)nl, 1);
        if (!common || !short_figures || !long_figures) { PyErr_NoMemory(); goto done; }
        for (Py_ssize_t a = 0, b = 0; common_run(s_num, nf_s, l_num, nf_l, &a, &b, &a_end, &b_end); a = a_end, b = b_end)
            for (Py_ssize_t i = a; i < a_end; i++)
                for (Py_ssize_t j = b; j < b_end; j++)
                    common[(Py_ssize_t)s_num_sent[i] * nl + l_num_sent[j]]++;
        for (Py_ssize_t a = 0; a < nf_s; a++) short_figures[s_num_sent[a]] = 1;
        for (Py_ssize_t b = 0; b < nf_l; b++) long_figures[l_num_sent[b]] = 1;
        for (Py_ssize_t i = 0; i < ns; i++) {
            if (!short_figures[i]) continue;
            for (Py_ssize_t j = 0; j < nl; j++) {
                Py_ssize_t cell = i * nl + j;
                /* (shared > 0 in the numpy form: the weight, so a positive similarity) */
                if (long_figures[j] && common[cell] == 0 && shared[cell] > 0)
                    shared[cell] *= 0.6;
            }
        }
    }

    PyObject *lists[6];
    for (int k = 0; k < 6; k++) {
        lists[k] = PyList_New(ns);
        if (!lists[k]) {
            for (int m = 0; m < k; m++) Py_DECREF(lists[m]);
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < ns; i++) {
        const double *sim = shared + i * nl, *con = contained + i * nl;
        Py_ssize_t best_j = 0, best_cj = 0, last_same = -1;
        for (Py_ssize_t j = 1; j < nl; j++) {  /* the first maximum, as numpy's argmax */
            if (sim[j] > sim[best_j]) best_j = j;
            if (con[j] > con[best_cj]) best_cj = j;
        }
        for (Py_ssize_t j = nl - 1; j >= 0; j--)
            if (s_text[i] == l_text[j]) { last_same = j; break; }
        PyList_SET_ITEM(lists[0], i, PyFloat_FromDouble(sim[best_j]));
        PyList_SET_ITEM(lists[1], i, PyLong_FromSsize_t(best_j));
        PyList_SET_ITEM(lists[2], i, PyFloat_FromDouble(con[best_cj]));
        PyList_SET_ITEM(lists[3], i, PyLong_FromSsize_t(best_cj));
        PyList_SET_ITEM(lists[4], i, PyBool_FromLong(last_same >= 0));
        /* (no sentence with the same text: numpy's form gives nl - 1; nobody reads it) */
        PyList_SET_ITEM(lists[5], i, PyLong_FromSsize_t(last_same >= 0 ? last_same : nl - 1));
    }
    if (PyErr_Occurred()) {  /* an item could not be made (it is NULL; a list frees the rest) */
        for (int m = 0; m < 6; m++) Py_DECREF(lists[m]);
        goto done;
    }
    result = Py_BuildValue("(NNNNNN)", lists[0], lists[1], lists[2], lists[3], lists[4], lists[5]);

done:
    free(shared);
    free(contained);
    free(common);
    free(short_figures);
    free(long_figures);
    for (int k = 0; k < got; k++)
        PyBuffer_Release(&views[k]);
    return result;
}


/* ---------------------------------------------------------------- csv_lines */
typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Buffer;

static int reserve(Buffer *b, Py_ssize_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->len + more) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    char *data = PyMem_Realloc(b->data, cap);
    if (!data) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

static int append(Buffer *b, const char *s, Py_ssize_t n)
{
    if (reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

/* `s` quoted, its quotes doubled: always data to COPY, even "", "\N" or "\." */
static int append_quoted(Buffer *b, const char *s, Py_ssize_t n)
{
    if (reserve(b, n + 2) < 0)
        return -1;
    b->data[b->len++] = '"';
    const char *end = s + n;
    while (s < end) {
        const char *q = memchr(s, '"', end - s);
        Py_ssize_t run = (q ? q + 1 : end) - s;
        if (append(b, s, run) < 0)
            return -1;
        s += run;
        if (q && append(b, "\"", 1) < 0)
            return -1;
    }
    return append(b, "\"", 1);
}

/* A str's UTF-8: its own bytes when it is ASCII, else a temporary bytes object (*owner). */
static const char *utf8_of(PyObject *str, Py_ssize_t *n, PyObject **owner)
{
    *owner = NULL;
    if (PyUnicode_IS_ASCII(str)) {
        *n = PyUnicode_GET_LENGTH(str);
        return (const char *)PyUnicode_DATA(str);
    }
    *owner = PyUnicode_AsUTF8String(str);
    if (!*owner)
        return NULL;
    *n = PyBytes_GET_SIZE(*owner);
    return PyBytes_AS_STRING(*owner);
}

static int append_str(Buffer *b, PyObject *str, int quoted)
{
    Py_ssize_t n;
    PyObject *owner;
    const char *s = utf8_of(str, &n, &owner);
    if (!s)
        return -1;
    int rc = quoted ? append_quoted(b, s, n) : append(b, s, n);
    Py_XDECREF(owner);
    return rc;
}

static int append_value(Buffer *b, PyObject *value, PyObject *fallback)
{
    if (value == Py_None)
        return 0; /* unquoted empty: NULL */
    if (PyUnicode_CheckExact(value))
        return append_str(b, value, 1);
    PyObject *text = PyLong_CheckExact(value) ? PyObject_Str(value) : PyObject_CallOneArg(fallback, value);
    if (!text)
        return -1;
    int rc = PyUnicode_Check(text) ? append_str(b, text, 0) : -1;
    if (rc < 0 && !PyErr_Occurred())
        PyErr_Format(PyExc_TypeError, "csv_lines: the fallback returned %.100s, not str", Py_TYPE(text)->tp_name);
    Py_DECREF(text);
    return rc;
}

static PyObject *csv_lines(PyObject *self, PyObject *args)
{
    PyObject *rows, *fallback;
    if (!PyArg_ParseTuple(args, "OO:csv_lines", &rows, &fallback))
        return NULL;
    PyObject *seq = PySequence_Fast(rows, "csv_lines: rows must be a sequence");
    if (!seq)
        return NULL;
    Buffer b = {NULL, 0, 0};
    Py_ssize_t nrows = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < nrows; i++) {
        PyObject *row = PySequence_Fast(items[i], "csv_lines: each row must be a sequence");
        if (!row)
            goto fail;
        Py_ssize_t nvalues = PySequence_Fast_GET_SIZE(row);
        PyObject **values = PySequence_Fast_ITEMS(row);
        for (Py_ssize_t j = 0; j < nvalues; j++) {
            if ((j && append(&b, ",", 1) < 0) || append_value(&b, values[j], fallback) < 0) {
                Py_DECREF(row);
                goto fail;
            }
        }
        Py_DECREF(row);
        if (append(&b, "\n", 1) < 0)
            goto fail;
    }
    Py_DECREF(seq);
    PyObject *result = PyBytes_FromStringAndSize(b.data ? b.data : "", b.len);
    PyMem_Free(b.data);
    return result;
fail:
    Py_DECREF(seq);
    PyMem_Free(b.data);
    return NULL;
}


static PyMethodDef methods[] = {
    {"scores", scores, METH_VARARGS,
     "scores(short.sent, short.stem, short.weight, short.plain, short.total, short.num_sent, short.num,\n"
     "       short.text_id, long.sent, long.stem, long.plain, long.total, long.num_sent, long.num, long.text_id)\n"
     "-> None (no stem in common) or (best, best_j, best_c, best_cj, has_same, last_same), one item per\n"
     "short sentence: linking.align's similarity and content tables reduced to each row's first maximum."},
    {"csv_lines", csv_lines, METH_VARARGS,
     "csv_lines(rows, fallback) -> bytes: each row as one line of COPY's CSV, in UTF-8: None empty (NULL),\n"
     "str quoted with its quotes doubled, int as str(); any other value as fallback(value) gives it."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", "linking's loops and the loader's CSV, compiled.", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__speedups(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "ABI_VERSION", ABI_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
