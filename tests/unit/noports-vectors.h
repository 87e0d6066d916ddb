/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Fixed test vectors shared by the noports unit tests.
 *
 * An RSA-2048 key pair and a PKCS#1 v1.5/SHA-256 signature made with python3-cryptography
 * (an implementation independent of ours) over the exact bytes Dart's jsonEncode produces for the
 * relay-auth payload {"sessionId","clientNonce","rvdNonce"} (upstream
 * noports_core/lib/src/srvd/socket_connector.dart, expectedPayloadForSignature). PKCS#1 v1.5 is
 * deterministic, so our signer must produce the same signature byte for byte. */

#define VEC_PUBLIC_KEY \
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAueBSYhhzQFKMzwrwmFYN9d5eTRKIG549FTUO3GZExMKeMCWK34frDb1iRkE3LdSJsIJaBJaB1dJ34DFi3srisSAfZbjJMmv8Z2PfLH+x/4QVwmk8VZdij7iJ2SFdQ4UbbpLQi7i9Py8bZ5rf0+5sNihhBlG/QcNQeDFfNG6DuvSX02BcQNHcg3AeM6bBPJbAlYJl4A/kUZ4HoX5sLtedr+sogTZ+Lda+PSPZn3RnF5U6YeQKo9+kwXY6Vw8+QlKUDrAIjtIY9nQ3VA0eaFOkHRbtjxfU3O9Q/HZV0sAk9vZwZJnvc4YMu8w/zw/VYEHnOgVPtBjUWrhHYro78Shu1wIDAQAB"

#define VEC_PRIVATE_KEY \
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC54FJiGHNAUozPCvCYVg313l5NEogbnj0VNQ7cZkTEwp4wJYrfh+sNvWJGQTct1ImwgloEloHV0nfgMWLeyuKxIB9luMkya/xnY98sf7H/hBXCaTxVl2KPuInZIV1DhRtuktCLuL0/Lxtnmt/T7mw2KGEGUb9Bw1B4MV80boO69JfTYFxA0dyDcB4zpsE8lsCVgmXgD+RRngehfmwu152v6yiBNn4t1r49I9mfdGcXlTph5Aqj36TBdjpXDz5CUpQOsAiO0hj2dDdUDR5oU6QdFu2PF9Tc71D8dlXSwCT29nBkme9zhgy7zD/PD9VgQec6BU+0GNRauEdiujvxKG7XAgMBAAECggEAAh1tz1ghrS7JrSw3ZM+LdOuhtttjn62f9BpSJkRzOt2C1d+cSJyjM/K4NNfWhcrgNP+lGfeppLuycBaC9/yZ/yCM8U52QTPrJgGdm/ccZa2XxWPTwAUrDDr+z1dd8gAIbSxcroJP6osILLHqVkVLuoM6G2UzUzW8OCnjprtgYooTj8UbwAZILOFXVwvNZJMC7JzSkUh0aDYSC5MAddIog3R/+hT1Ugg12jH40ZknrvjsuQAjSDA2lbD07b4HcPUqE/uHF+NdhnprJd2nUfB4hHo2VZ2Ar0Xkozau9H/NvtA1bFVDxK74gCZiLnL+L/F8GkV7OxaY1wkZXbQrBqxZKQKBgQDmqDzBkigdXUYwZyijAuIeXTVxnmgQkiGjiAwXDwSieqAs6FzsS5nuRhRMhfRy1E8qJkhT3hnLNt4ikJo/OX+8qtSqH4z8e9daYfU5zvy2tl7vSAHZss2DOfeNKUbhWU+x8eKZASKAllPczxsbJqdvD2o0e9Ve/xhpnsSczj5/TwKBgQDOTISu22spsESzEHOrFxCjlbsx8iOo0ApuCjAZCepHlpR5AusCP+n6orQFrWc1V+c+xp/oggqE80lvhf/eDDhpe64Yf6jevQbMBrmpWPlBUmtdQoHYtJfcjcHF0Y0Xdh5oBlcKhru2d+cFpRfEGYOojXt0Agvv1jQ9nUH2Lvj1+QKBgQDei3QTT/FkY5pVGTMcFKwWn9fwx+WgF15daeZAWT0fhzEEIy2Ez2y1eOgc7SHtqOq4wDcItEIuz8GDmAE6/z8/yZNmkQp2kQY3LkxseklaAJuYQuGGKf4fns46ZJj+1C0Qg1EeTvn7Fw/S/AArMiBaB4VxHgnAnl/viEArCtNCAQKBgAVFyWJas0t2eNsGwZ4O0dsMeaNWJ/kpkAqt8frB2R4JSDQrkewVzBoezHEUtH2ViJB/LRkZMcGiIi9agmafc1Wm1pVDtgIzXJgcV+RvJLe5rorMp1rtirAVY2115KBD4ZURDGp1dRi9ycbIKGpXqJjHPO+DGeEAXYdxnHz5SF2pAoGARykeIVHZccVijb+lBarOSWlWZjH1+aobNlY6GuTGfhXGUlmubHskdQNCAuR2xDpxSM0FKOldofKWZBFhSZtql216bfpAeVdPLm9IGnc0RRjnSPygK7K7G21SFlAo8dTyQA45nCmqKwkLFd7GyGA+QSL/YZBj8IeASB+0OmgOV3U="

#define VEC_SESSION_ID "0b6c3ae3-5b7d-4e2b-9a5e-3c0f0d5f2a11"
#define VEC_CLIENT_NONCE "2024-06-21T22:30:19.436915"
#define VEC_RVD_NONCE "2024-06-21T22:30:20.112233"
#define VEC_AUTH_PAYLOAD \
        "{\"sessionId\":\"" VEC_SESSION_ID "\",\"clientNonce\":\"" VEC_CLIENT_NONCE "\",\"rvdNonce\":\"" VEC_RVD_NONCE "\"}"
#define VEC_AUTH_SIGNATURE \
        "Yd+a2fzu5KaJn5E/mjbNWyvZB1PJrs7T6HFr56yHCJ36SQ3omiTrU3GVvaM80GTN5CNuQfdENtDcS9x6ArxJjbOObDm9NeFkiVwE7Pbjlu+Tmhsu25DN3zR38HMKJOrIRKkYKxlWHymcYaOLnzSYJ/kin0measfIXPsaG3+03Uf9Gj4DKgXqlibmxbRBNfdzqfqVE2AROtOr3/bgra9ELKmkQ2QnVm32Y15YTiKDPfZyokYBa88N+9B5z0lt+vUdZgbHQ4FI77a7VUCnsnlfI5JfobtBmWOFu/oeLfc5e4W6YZRz9jglDjTecPczcPKuLMYn1xG9vYqnj5HZrSGSXg=="
#define VEC_AUTH_LINE \
        "{\"payload\":" VEC_AUTH_PAYLOAD ",\"signature\":\"" VEC_AUTH_SIGNATURE "\",\"hashingAlgo\":\"sha256\",\"signingAlgo\":\"rsa2048\"}"
