/* The order in which the frontier DP (dag_dp.h) visits a network's nodes. Its cost grows as
 * 3^(frontier width), and the width depends on the order, not only on the graph: ten branches
 * read one after the other stay live together, while finishing each branch before starting the
 * next keeps one live. docs/cost-model.md, "Search over types". */
#ifndef ACCPAR_DAG_ORDER_H
#define ACCPAR_DAG_ORDER_H

#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes g's non-input nodes (inputs are not DP nodes) into order[0 .. m) in a topological
 * order chosen from the graph alone, not from the file's line order: depth first from the
 * nodes nobody reads, visiting a node's predecessors with the larger subgraph need first
 * (Sethi-Ullman numbering). Returns m, or -1 when out of memory. */
int dag_order(const net *g, int *order);

/* Largest frontier along order[0 .. m): nodes already visited and read by a later one, counted
 * after each step. *widest: the node whose step reaches it first. */
int dag_order_width(const net *g, const int *order, int m, int *widest);

#ifdef __cplusplus
}
#endif

#endif
