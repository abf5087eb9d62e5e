// rabbitmq-c 0.11 (Debian: librabbitmq-dev) with shims for what Swift cannot call directly.
#pragma once
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_framing.h>

/// amqp_login is variadic; this fixed-arity wrapper logs in with SASL PLAIN.
amqp_rpc_reply_t lm_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                      int channel_max, int frame_max, int heartbeat,
                                      const char *user, const char *password);

/// Puts the channel into publisher-confirm mode (exported by rabbitmq-c, not declared in 0.11 headers).
int lm_amqp_confirm_select(amqp_connection_state_t state, amqp_channel_t channel);
