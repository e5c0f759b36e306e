#include "net.h"

#include <stdlib.h>
#include <string.h>

int64_t net_rows(const net_node *nd, int64_t batch) {
    return batch * nd->hout * nd->wout;
}

int64_t net_di(const net_node *nd) {
    return nd->cin * nd->k * nd->k;
}

int net_is_weighted(const net_node *nd) {
    return nd->kind == NODE_CONV || nd->kind == NODE_FC;
}

void net_free(net *g) {
    free(g->nodes);
    g->nodes = NULL;
    g->n = 0;
}

int net_valid_name(const char *s) {
    size_t n = strlen(s);
    return n > 0 && n < NET_NAME_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}
