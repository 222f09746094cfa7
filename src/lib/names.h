/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Internal: the name tables behind sock_*_num2str()/str2num(), exposed so
 * unit tests can walk every entry. Not part of the public API.
 */
#ifndef SOCKTAP_NAMES_H
#define SOCKTAP_NAMES_H

#include <stddef.h>

struct socktap_name {
	long num;
	const char *name;
};

/* Each table is sorted by num, with unique nums and names. */
const struct socktap_name *socktap_prot_names(size_t *cnt);
const struct socktap_name *socktap_fam_names(size_t *cnt);
const struct socktap_name *socktap_state_names(size_t *cnt);
const struct socktap_name *socktap_type_names(size_t *cnt);

/*
 * Name (without SOCKWQ_/SOCK_ prefix) of bit `bit` of struct socket's
 * flags on the running kernel, or NULL if the bit has no name.
 */
const char *socktap_sock_flag_name(unsigned int bit);

#endif /* SOCKTAP_NAMES_H */
