#include "CRabbitMQ.h"

amqp_confirm_select_ok_t *amqp_confirm_select(amqp_connection_state_t state, amqp_channel_t channel);

amqp_rpc_reply_t lm_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                      int channel_max, int frame_max, int heartbeat,
                                      const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat,
                      AMQP_SASL_METHOD_PLAIN, user, password);
}

int lm_amqp_confirm_select(amqp_connection_state_t state, amqp_channel_t channel) {
    return amqp_confirm_select(state, channel) != NULL ? 0 : -1;
}
