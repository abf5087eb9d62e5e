// OpenSSL libcrypto (Debian: libssl-dev): the EVP digest interface only.
#include <openssl/evp.h>
