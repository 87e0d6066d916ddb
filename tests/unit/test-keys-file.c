/* SPDX-License-Identifier: BSD-3-Clause */
#include <malloc.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base64.h"
#include "fs.h"
#include "hash.h"
#include "keys_file.h"
#include "log.h"
#include "macro.h"
#include "secure.h"
#include "tests.h"

/* tests/vectors/legacy-resultingantarmahal7_key.atKeys (upstream at_libraries
 * at_onboarding_cli/lib/config/@resultingantarmahal7_key.atKeys, commit 3831f6bf) */
#define LEGACY_FILE \
        "{\"aesPkamPublicKey\":\"T+YU5H2mpaa2rxSQ9zRfNkyNwr4/13Lz5ajQsheFyPjNZ/9C4oTr0aJnHdq" \
        "iRgmQK79g16uFw5RykmngcQc5VY1P+j+hx3PaSg2Xie+I7sud7NsdlUAtj9Hv+CUVbyb/+7k5aE9YG7V" \
        "tIM5FUKMUl/EyIYPS0z2lxVO6zZmafVZToTDbtDiI1ikrQKG2pBigHwYnJgsQehtTZsZT2wJjSKh5ogw" \
        "pnAOWFWccXWob6P4rtLDxvO2uZPmJCTTmbl9dYx8XGEZCTaoDnd3pEba3IvLpczyWZAaACpC+V+T3nNJ" \
        "W8PdjAX5sffYFCNh2+LFTJrQmRU+bEAAl3ZDkGWhTtXS2RzceexphAKW/BcD1vohImL2+9hN4mUbaG8F" \
        "7Cr1KOyHuIYe5NX6ly7adH8FydkwEaOigqOyFbYDgCAFU/CdZp/hF/aQSmwlzHp9EMKEY2ErUXp/LKSe" \
        "N+R13VSHkGloFO6pOKzOt7FZE5McZDn/D88kPnbODYslHGokhIPO4EOboUvmI5eNYtolIM3xz1Q==\",\"" \
        "aesPkamPrivateKey\":\"T+YU40Kdraq1jD6v3ThdAB2Rm7tH8Qf35bjatxeVo/rCZdV3xoTz+KJRHdqK" \
        "HDDnGagWw/+I99RQvEWYWwIMf/9C4Czx9mf4MiCQhvDc7vudocJsvi0p9bDU5R4ySEny8K4yXyh+HONg" \
        "XtBOUsoGk+8PI5rrywvkwk2izqPIJ3USrzvtxxmf12kFS/qAjhbaHCUyLzo9TUFYXdR35hc+f49JtRAI" \
        "kE+bbVNESBUMxb45rLGtpbatLP2dfE6AZm0EOCYBZU8gVNAog83tFaDmCv3VfTiWWV2xNLPBZ8rZoe59" \
        "5stlAXBCdfIZDOxnxZwTN7MGZ1GbGjwS/qTGWBhqlHShVH4ebDMqFbyWMpLIjMYk+ZyjyQFInGSiaqxT" \
        "Ha0iIB3ueuadEVal/JWyBJ90DnVTZbX3vuXZRtGcGXxf+CNMnrRJ/L446VdPWs0mNqJTwmbOdKvnF3qN" \
        "7zxVJButWw0hGpd/Ny3M+ksa1rAnU1fC1bYK5L6HUfIWGaIeUJKpNvzYfeqc5esR2cwCejU+nkWraxhl" \
        "uTMTFfMzvp8Jl/GOGxFzjt6WfdOcqxQBxX6pI7gonTzycztYgtq9SFK+5mULXFMn8sBWSmSn3Uu9sZP1" \
        "MG5SHwODll9jrGEMtAmyxCnReJm9mu6e/pVAdl7WBVrJhBlBVViqnG2WX+7JPcODzTvh+dw7ViALiGyN" \
        "mTgFsfNUseIVfBWiPhSrmFSpHL1Dv4l5RzGLJVQiGrSI+u+4QQ2Xu3ketbG/H1E9G+6iadNpo5sg9eO4" \
        "aN5SbtF9VB0QQElFp1KVQmUcLdtENlik0ozX+zhgangHIcD/0A2WvXKote6Zx72G1Il9Z1Lb3o+DjpzR" \
        "hthqGaAl6nJGQ8evVqwKNcujBIGvAnxxm5zv60Jiulr9dBjS8i0xZF+9Dr3W8PfMOdhXjBF4nPungkmz" \
        "+Uv/DY8NeX6YoWeAbhZ6YfnWwS94gY84NmlfszQ1iP/D4ipQiydTWADEXkQSHo2cT9PDh58mQGFnMGJw" \
        "nFo5tQN+fnfZvBclc+QesPVehoK6KizabLJeTMHB8eXY/OgfhB4+tcR79WFzVFK5hypz2CVHvHwtEE6G" \
        "bbTWrzWagAV3j2h+EWlRiZrG2eKxjLiupkGoaor+UBU7WpgpbqIyZL9pvP0Dl2Xttjn0FMkkIW4DK6Vn" \
        "kHyMVsd0hs0hbuY0QBnpsz7ZrLCU7WED8QKiISMxcviZOUicJiVKmS2DyIeIYx7opC9jExeUEpRsFDjb" \
        "S3Hr0N9Urao0ltxbK7JN2B/kpxDF0cXAv+iONs+hf5xXztrr3AQquLcgwW3QRGb9dDeK8vq2m4+Eptve" \
        "WZ6I5xj9VdsD2YbExNmqcPUc/95dGyUV/EuhkNOGRihyeCX97WP5kqGSIjMJOo5buWX0Y97aFqUp3eDW" \
        "x6idLBx9G0JcDfbeg3eFEiH9Wqtt3rgKuc9Ll4kqRqlrmv6G5ZtyiAxxfseZOTLvYvW1d9LH3LmNkHSt" \
        "2G6WEfvICMh7idvYT+HT/PzBPER2X3ZxLlTuV9/PKep+yVYvrtPWPU1AXgfu5XiTrVOxXay9G+pqlqeX" \
        "A/IPTldDR1AX5DhAgyB5zoKDlV8TtZVNvrmIa5ujCwbY3ObMmrs2c9+YjzgLtdRrXkoGd6cm0EpiAXyM" \
        "mtQic4tyVCCibMkXUVTuQ3EfHYRVyYOHC6fVDFcjfXA5KXpmNLoFzFGQhBVrG+gVJdf8CNR+eaLcQ4GP" \
        "Wt3cFkkXwSB2GH9s5SRInx8gTsVWJkI2NT2PJtsOPQg4UEfHre6Z081gIshU0WowvzWqa0y33cdWYJmN" \
        "SXV3+/xelieyzwlSIJR/D8u4exCS5cf3SoHIJwtimWg9JuPEUqJr7x23NAzjeEsp2uKhXgGFjRiawJ8u" \
        "O7oeYEtfputqo+DnmY6W328l6cCMHo/dBLcQL7Cq+FAu4fKWqVgzU2C/2Qvsj2O+2FUYG00pdxyu0ilS" \
        "JD+PsEQicNFHwx1mX/RyXhOpWq88BbC8oChEBjPxJA2+ZazWgTv1CFHVOLHqdgG8p4cjLYtOY9PTwwSG" \
        "UlYW2tv41bjvYQrl8h6b/VKsmyTDuC3CiyEyOfDb/4dTnqRLk+ZnL7RPYXYz4d2pfIe+20kN5/e8veNZ" \
        "8k87N8QQ8SJKwW0xjgC5t8+g7Mq1PbCk9lwL\",\"aesEncryptPublicKey\":\"T+YU5H2mpaa2rxSQ9zR" \
        "fNkyNwr4/13Lz5ajQsheFyPjNZ/9C4oTr0aJnHdqmBDuUCooCoPy22+pp53vQViYgXNZx8DvAxRTvUhO" \
        "rxYjdk/akie9mkBJf/rDWwyIxUnvi46kNGQhKFcYWY/ZXRPdVuYI7La3pqxr83Eyg/6/Vc2gJ+xHh1wG" \
        "q5EgAfoelu2ugJnUnahoLaG1zS6lf4Q1jUZ5VhT4l+QnlCWtbbXgv9JEUnKj4s5uIKtrLDVPGY0JIMgs" \
        "aHlB0TZZFwe3aOfy0CJ2KDnyPa3aYKai5VOqYsd9iw9NFGUFgVvY8M8Z10JFuPpU3S3ehGjo03JX7JGM" \
        "3uEHsUQMBQCRqPeeJNpDirqQn2YSO+AFDgyaIPe96Kao7JU/GQZbnamKM75+SNKReEVh1fKj5gsnZTN+" \
        "fFSh9+gF52sht4Yc3+nkma7h4f6Bw5HHfQqqze3iFzxtXQyqPBCcOJo94TCev7W0UgvEzUA3K2sdU+Ln" \
        "Zb9sRS4skVsC/McDoUvmI5eNYtolIM3xz1Q==\",\"aesEncryptPrivateKey\":\"T+YU40Kdraq1jD6v3" \
        "ThdAB2Rm7tH8Qf35bjatxeVo/rCZdV3xoTz+KJRHdqKHDDnGagW7dOuzORwsgjKGykSQM5Pw1+n0Ebaf" \
        "xH5qPWRz96Ul+ZFnkE8/OTZ7V4dCl+kgqJnbDtUdblhbf0cSvE1qp0YKtWE9xW2+HmI0N2nJlQsjwPb/" \
        "D3A2SE7WaaVtSqOAQ0JLDstTEBIXfV72wI4ZZVYqBA2kyziZ2R+fBI3zf4pvoeriKSrbPW2VnGGZlpqd" \
        "RoyG1Necao5+Mb1L66wDfPnSDLTRF+kaLCaQfX0ifN1+voYA2RlfcYpDKQl7aoRM6g0fBa/QQAB4pSoW" \
        "ElrmHC+UikycAULEcKrDIDI3ZgQw6j8qwJCnzukBMheEY0KMhy1eKaEBz+u9rC9MdljR0hPWYHG/r+BW" \
        "cL4MH4n9Rp3hsZT0qQ/iVpqXbpFUvhPqlfpfJHTKzqQvCpqZH2WNCcoJ44sQyOyx2xp2+p6W13d4vxz6" \
        "ubHMoMdG7U/Tuq/ZM7QIdy28tcR2cwCejU+nkWraxhW6GA6RuI61oZwwa2qCCdy+u6RTN3F60Jg1XmIA" \
        "Ikb7H6ONj5PtYu9ZmyAxkh0WVU4lb9sNjKV4n2AoNvJdEJzFh79qDJZl2cb/Ba99jD/fK6wt6iW15l+c" \
        "XbKBg321UViJX+tpmuzXMvmP+rx5A3Miuc3ThoVl13x5T0Y5exN+eIpWT2CGyyxlXKZAsZn8a07HD+RU" \
        "1VhF9HU89eGTnKav3g/6sSqIEcwLrOAUc0Tq68AwfqOGZICFOQgeSQfTFBGrHC3aGlHaMcyFzKl2KfI3" \
        "xoGDDYEGNHj0nG/l3r3u5HLn6CcvpV4XGfHqInFt6795bgTGPcw3k92ZIjbRIRdSNC4O52DJEVyhIrwj" \
        "2dzq1+HcRbZ4zwUOVCXJr7R/aO7LMJLwBhap6O+onby2W37cZQWc2mCs23kQiJQdrnPkjM7suY3Uxlor" \
        "10Ssdbv5wkTvkhoagDEXkQSGdGOKPPl1eAjIRdxVFlw1CAghB0Kfy/NxAczccFziK1ZnJqNVifSW6ssW" \
        "svcz73f6asThT4W1q5q90hOdmm/w2p3ykVoklULBg+uZM/BkE/+uhFpvi0CbmUMpoqb7uik9pqtqTPEA" \
        "7SCR1lWdowWebomS7FjtcJJgU2v5kujfpdcDQ4oMbh8mnKqPuE2gMAKV9AWcyGfrALxipCyuyIGngqnL" \
        "XFZd/i3Jn2YACVKmS2DlOq/ey3ppC1FE2efM69sIHHreEnK+e5Prus3uKFTO5UYnh/d8E3NrYv8vZvlM" \
        "NGbarhOg97f6wFQv70L5HPLElSnYUuG7PiVxoXdvcLGRdv17jWRXJc/8vb1grKhe9Zc2oE7AT4j1njYm" \
        "teCB3EufUvd533Arq6jLCgWFvIeu1SGAc+CMZMWv9/p1K2aHAoFHRpCIuX/qTu6GG3LP8ZQx6MJusBNl" \
        "5wOOqhrmv6G8JBO919wC/OOcRbNdtCPcK7BjYiTrHTf6mqoB/q9Xvx3ktn7UsqEn73FDV9FWWRKXg/4V" \
        "+PXWd198VUiuvWVOghESQr33ySnoEubSoHHNutniaj3XPEzV3oSU2A1uAlzoDRi/9W1xmwBpu0w7qXNO" \
        "J6rPRaVyN6YloMkT4yYu3sPkq0NS0s2aphUzA1cNGm9uNUgGqJmYEqYb5oCfD/ibBMaersqkpSlEOXXI" \
        "k8vfnIYVl5tGKdTzW2l0hkWPukSC+HMIfcnELbQVr2xYdbOEVQEnwIqZQNi4Ulyjlc8e8o2CmkRISiFJ" \
        "OQsMBQ7AXL3h5ee9/ZxEYlx0Xx9p2LZWWGpkbt0VICPa1xO1tZG8RqD8ABte5RME9bGOUWxvOzkT4/sB" \
        "nlmukZONOeCBv057V+mVCWCI20u1t+NWg7YjBPe660QKP91f2hesa0X9Kvq1ZrL9VNQ/vWXNP37MrUQI" \
        "LfDu04E9uCt+0sWdSyuzlucuFOfrhYeYj4WdyyxyXR1CDKV4mITY/ND+z96OpBvcW6jSocRGdySnTpXJ" \
        "BzMAgaFW5X10j+McE3XNrnGKxrvttQQHsJxS7ahjHL/NksT+dun3dS0Xw/U8ietxWuvkXaVohyemUADB" \
        "rm196B0q+U3r9kzNrhMP31n/bKHQ6rP8m4O9ceuoN06oBQrC5oJ4i4Y5kc+1SST7qjR7Mq1PbCk9lwL\"" \
        ",\"selfEncryptionKey\":\"uBcd6mFqVvDRve+KkErbLTRY/9vrVN+EbbYe1NhP3oY=\",\"@resultinga" \
        "ntarmahal7\":\"uBcd6mFqVvDRve+KkErbLTRY/9vrVN+EbbYe1NhP3oY=\"}"

/* tests/vectors/apkam-alice_key.atKeys (upstream at_libraries
 * packages/at_auth/test/data/@alice\U0001F6E0_key.atKeys) */
#define APKAM_FILE \
        "{\"aesPkamPublicKey\":\"r1xqwZsnvEqdwPmKwXuageb6DSr3YfveRqHDBnsiG6mkH0vT1vcFxLrIjMK" \
        "C3G39N9mQ9tpSKOa+FCIQrn4O32I8Rn1v2FE+cIErqkTnp/q+1BK+/f1vOiEFcoW5To2LCglO2G/2rR2" \
        "QGplPdpvcbRYq//5rMGYM6KpesqbNH/rlK8d8TILix+pvfYycB6k0o7NF6DPBWy8D96372mZpTHWeLjU" \
        "3aDNhYvhQ0kxZHliiemPwNK3kcHMWfZBxndcJXJfrCQErUNiPim3hPsuocGmqyzHBYl0cYCkrCNKcpPE" \
        "OXf5SnvAqM1kUjNKNxYwJXrqJLhidCmflVukkb0dv+qDkQSMZFmMVYVdbmirDO3zxFps4Ru7/DHus/MI" \
        "GkNj5eyFqN+3nuyKrIQR0PXW4AmJ7MP/gYLWOfaLQBgs8EranFaeXtRfoaD95Wadp+yyljUj+u4LU7H1" \
        "7IGwFnT6C2+OXNHSuo+3WaiYpXew5MqgeZkcpcQOK6te4nVEF0RCNh46BQn+0dQTPLxK7KYW/8A==\",\"" \
        "aesEncryptPublicKey\":\"r1xqwZsnvEqdwPmKwXuageb6DSr3YfveRqHDBnsiG6mkH0vT1vcFxLrIjM" \
        "KfyjioCMi56/NWEYiebRMihlkAnjhJez5loU57Vd83pmG64/ietxfX2dQ/F14JLJOQCuq8XAVx7nSo5C" \
        "LKGJMoX4nHLi4Q3/RILWs39Zxd8/yAJ8vgPOtnZvjPxZgRY5GNaqoAgulnh1b/DCgw4/C6xGBlMF+3AE" \
        "tJJBpHf4Z42GhoCXS5d0HQI8rEd3YWYZ9xhOoPUMb/SzxDKs2vo1HQad+PeFqL0Sj5bEEtd1R9IvnMuf" \
        "VcWPJKucZSOh0Ru5mxvsx+PPuJNBrKXD/Nft8yP0oclqTlX38EOkMzfVMWiAzmGlvsCd8yH+jzL2ag+O" \
        "kurebeSGl/Coe7iDvSInEnZETVHgFDGIPnf5WnX6HMKFcCD7CvNYSwiB3IYWRRO7VGwjCD7S/yu5e77G" \
        "VvaEEEr3Dwu/69H1Ktq+yLYnVTb9wfI4VlZRg8RDzk34fijGMA6xWsv6iBQn+0dQTPLxK7KYW/8A==\"," \
        "\"aesEncryptPrivateKey\":\"r1xqxqQMtEae49O163eYt7fmVC+PR47aRrHJA3sycKurHVvm8vcd7rr+" \
        "jMKz9gvcMf6J49JyEJWQXzMa3nQDg2FMXwB6p1Vye5IPj0Kvrv2vsTqaq6YZGWoKLKulCfChDjhJ91GJ" \
        "zTq4Da0GUfnZJjsz4eQSBCEs95lXxv+vBfrADPBcDrj/38g+f82fb7Rms7tOgTbhIUhugqr75UpQNFiJ" \
        "EldwKTpiHfdH6XB6M0+1cUDLCavoKEE5bLQrofcJesX7TFxmKdyYsEPtTOKScHLj0kroWXZwWTIbA9KY" \
        "/eFQJc9GnYJSSX97p7m0vZpWRaHfMAbaO3LaMOEbTmQO0MW3PTwQT1UufEQSgi2JE336bP8pEsjQVWGm" \
        "oO8ZodPbTk9HDK7pnx33NAxbBX7uNxdEJMTYdKnXaJ7RWDQwAb7VNYOrhw7uNFh9JsFl5FySyED6gYy7" \
        "30hjRE8i7ibmiPaZNQmQld/PAHs2OvJBdZlWB2wyUyDq8ebdjAEv9HbbrJmqRVCGYAKGQFfxYMzyu/Q1" \
        "LRD5CkLyvDN07xNl0xY3KT4Rp+TzsNZYkwnG4LjrtMxcHQmOmlBOuOkZDwP2hMyz9bss0z6q7yfNdKGX" \
        "W12TGDpXoXudAEqs2RwOL7rl7oA4X84XaGbNug+QMFHXE+hAoHUdw33xecbEJb4pF+N9LS8qt4VmMfsZ" \
        "1K20mVLpopvf9fmcxFb9LFL248Ex+EBuimNYedD91xtY4tTs7TMZenzz1qttZq6gonBz89RNtuBH470p" \
        "vhRQ5pF1n1WQe9GC7Mn13bdkAGEQL6Gz9HE0AA0FE41KaEQ/gea12b1UosD/s/tyZ1DKAcYc6rbggbkB" \
        "pDrK4buqPWP4tXCtBoj335Y0zH+kuZiwmCyhoYWQclaZHmGgEfpPu32NaGf+BwwywRdvhyVhIWT+a3O8" \
        "jtYhaYRCi9qtuDTFlyMFVWpXwKCyxGT4ISjkghgJ43Z91lVT18z6rT1ieH6pMQtXhNx0J1kd3lim5vTe" \
        "r+c1sq/GZ4AydwSJ1PQACUHHGN8akpa6GVuKJOy7fbAgGm2yW6Q0OzFLM2FQkvJJEKSCsidFYRYHGwfH" \
        "3by2mOkInq8NLd2AJQfPtj0o/4E0ak64+cRcMLHLmNi8+tndpm2I677EuHdkm9JevYpfwmhQrTYsnpw/" \
        "qM6k3Lw/7dtKeud2NOgeFhUqwZzXdjCyXRTumtIM4QJN8J9vQoLOW3zZA5iw4Ko4L4CiS6dm8ZaEQQ9p" \
        "VS5DrCi/IjQS/NLGny7lmT8gdhcqaSJ1HWC3vW+xbl6KOiLregofvxpk2C9799OBi5sirkqTYpd3YZSP" \
        "d8Ye6/yVfEZ+H4BVeTVIR9XfMCCsZ6EhZ/fxeVy4HxsoQUJeF5cKTWcfklZwoaEBYMH+7LC9SjBerYqV" \
        "rO1/aWi+1JcSj3lP8Tp6lw8Ps34o2Ke9S0IAGAJsi2pR2sQj/C14Q8TsFDJZOms+f4FUoN5lp0cppeSD" \
        "XJWuDWgfkCl9DNKoj16CltQF1q6qMyZ4zz/KBw7FT+aH0evc8JXPqE1wsuzBvmnY2kNNUOR248n0FhkB" \
        "BviZ5g7lvj01WUsS5O55VizcH1lA8ROXgNwIYp2+7DN4v/Osep6rAmh4HENohDuaQ6fPeyuktX3tN2PT" \
        "Qc4F+EPgr+6mm1KdnPcAXE5YLRRTklCRHVXXZDlV9I5Yq7p4XfNzVjqo9p+UT3n0uax01ie0mHa8mGso" \
        "oP08F7H+wgYl5Fa2ZfuKVyFZoV1CqABxUyIHW/a2yOmDGtQrybz3cVkyzmie3L7KTxR0fHUy0JquYYAt" \
        "pKxjPeYLqIcnqNTV+uLHq6WilDDAsVXmGiledW/Ocw3MHkUeeX7bewGI+4oQWUa+6zfuXfHm4HujVQsQ" \
        "qdxYl5UQps8Ev/3hoUsHqKX45qGutw95/OcWOLpaEQ0P5oZPPcXUg98WOLcptR6RSlLDscWD4Ib4YOOE" \
        "Gt4bMYL0tQdf5SmKACBN8gm44WrxkxhyMMgVzI1hh4UPHG4dXweme+l7SSjImS63qOtpE7BSje5FOg3J" \
        "nn+R7jWkSdl64eavrqVq+7gYHLeJODgw4BQPHcKiPDka2btG3+JiKMQplPGjTtNQ6M2x4J9wyKtG9g2o" \
        "arqkspo4VMvncoaZsB7kE9pFEb7PlFk6HNkylVtA\",\"selfEncryptionKey\":\"UaQFluEFmCwC3mq/B" \
        "zE8dKotSY1YUJwMIFVeaSycNGA=\",\"@alice🛠\":\"UaQFluEFmCwC3mq/BzE8dKotSY1YUJwMIFVeaSyc" \
        "NGA=\",\"apkamSymmetricKey\":\"WCxZ+tRsKktQM3YpNb5vT4Q/9lIGxfUmQSJEVnedZSI=\",\"enroll" \
        "mentId\":\"352b78c8-4b6f-4d07-a9cf-5466512ffa44\",\"aesPkamPrivateKey\":\"r1xqxqQctEae" \
        "49O163eYt7fmVC+PR47aRrHJA3sycKurHWHm8vcd7br+jMKz9gvcMf6J0sobFbPqTEA0h2IBlmhZZwld" \
        "zzNzQ4UHpHuO/f6KzgOMqvUXMiEDJdyZXOmPHQlk4DCp5VDHAYc3a+OabyMT69YXGF859YF38NrUBtL6" \
        "PeMbAPbr+pEYP6+jQakkp6NRgFf1AC4rzbDJrC13HUrFSGU2QTl8F9xo9VE/BRWZeXPqQa63f2YQXa13" \
        "xPMVerjFTA1iMPTUr2W+Pu/cQGa38hj6Y1wadw88BL7nm85QR81yu/odGGQPjJ65zL9KW67eEwblCDuD" \
        "MLQcWGB2x4m2fmUkHE5RZ3VAmAjmOW3SNuUoB+GpL1jNhdEQ1vLXeHdJPPehuX3idiMpCHLJBQxtDdH0" \
        "CJGJYqXVGAlOF6+kCZyUrijYU3ssEotG1nmdiCLKnJD0+2xQOUwFlybPpZ/OK1yvscDFA30IcJYtLLB9" \
        "OHkRQC+g+d/r5h89/lelr5X+dVCVBHOGQFfxYMzyu/Q1LRDmVAizuzMNzHZe0gQCPggP5tDOkeFikznV" \
        "ouHVvbpySg+y5W4oqe8OJUmwguGzk4w+jUizylnhMIexezzVeRFuoDnYHVD06D4CLva0wbxsast2NEXt" \
        "02+sDDvxEck1uHUo2Xv/AcfNCJMKd7pfeBI7nuBpbYhn6p+Huhz+qfrf59iViECoMlLPwMoBnhpwkx5f" \
        "M/jbzkFJ69TliAVeWjep/5xGcI71nkZE9etv9atklL0k8yEJ2a8d8D7LBvW1wsDA45dmOl44OpCN3FRM" \
        "blE9B7VJaHlFy+LnyodQlIKJsIx5e3i7BcIdlarHur0trAf9zu/SZAOolirRVorE+qwo6GfhztfqoDrj" \
        "i4iLPH2VYxvVDdJprUHlZ33SFhQt8hoX8DdkIwOTXmDa788vLuRZlbv+qCjU5FIffysuwJmCz06ACBON" \
        "qQpcmW8n+w98/8umgQxZXn6pMQtXhPRsGkY/3FyX0Z3zncUWrdPgWL0ccw/b+Ls7AFLJSZMvpoitFxiM" \
        "JrL8cpkDFlfwR7JISyFYOgwTjZVaHJLooBs4azobJmfcwZyS580c+NYgM9+8BzGunkNPwI54Nn+J5sZS" \
        "K6/GleCIy6TNvRCg+e+19mgF0+hwuN1s5TN01m1FnYA/q92R2KEmnNxhLfM2JfIOagVYu9CMeRzIWDTd" \
        "gZ4luSYt2apqJ8v0fXzZA5i3ibwoSr71Z5oewtCJIy4bPwg4mw6jIC1X587qkQ785XQjcGxzRR5xEAG6" \
        "oG6aY2DVWwfAQwEhjA9P0i1078HQidc5sEKLXd4zSYOZK857w/ybYxxXT5FMUCZ9HtO1SFGMb7clXc3L" \
        "Rme6BA4feD45FLdxZEkOul540+IJeqD8+rrFXAhDkKuqiJJHVGGpocBXkngHnRcS4AQznWUSr9yqGVVt" \
        "WhlAx25R1bMj/C14VNLDcCBxLXcdVrJZ66MXvDQd9eXqNbb/FHhvxgZvaaKptEO8i+8ql/WmFgxIwVbX" \
        "dRbFXpj5wLDSjdGH10NQkoL8vnnB/BJGbJEo5eXPLgZNIt2xpnO4tz0DbigY+rsqOAqFJ1INjzfLwrpU" \
        "Tav52SAP3djED8+TMHhHdz1u2QC3QtmdJQmhiVK+ZWafEc8glGyn3/eGgVW4m9ULfxNoDgxEz3z+EWqF" \
        "QTVO9LBUqJAPBZ9mVm7z39uMGi/xkcRU4GqSpE2mm1MnicI/Lc/f71cEnFujM8PMBC582CB/hA50dBpw" \
        "P8CyiMiOUMo+3sPCeBM70Va9qpzHRxBpG1Uctuf+RP4ZrqclGd8P/qkYhPSf/sfo9eHZwy/DgGTWJBhd" \
        "XmXdG1HrQxgsagL6LgKJ0MxcZhT3sAjdZPzQ8jiiUhE03tld1p0vkZMm09Dno3snyfShvviQ9jVn2sww" \
        "Dr94Lzcy+axLP8PcmNgvO9MQoli0ZFPYmaPz7tfuT7yGL+AAGr7Qin1u8GOsDDJT6wqi+1u7lTVtLNde" \
        "jK5ugPtcAnYCQC69J8JlYAHPwA66o+puAZtmm8R3B3XNx0ahkRqZesIkhpuGtKVY3q1NBe6haB4egSoe" \
        "DqKgDmUCm/oV57xbMshJg+vZWcB/x/q28Od/1ekjykSddv+u+oUmRLrXAqOZtn2nF91IL9uzlFk6HNky" \
        "lVtA\"}"

static char dir[] = "/tmp/test-keys-file-XXXXXX";

/* first 16 hex digits of SHA-256 over a public key's DER SPKI (computed for the vectors with
 * Python cryptography: public_bytes(DER, SubjectPublicKeyInfo)) */
static void check_fingerprint(const AtRsaPublic *key, const char *expected) {
        _cleanup_free_ char *b64 = NULL, *hex = NULL;
        _cleanup_free_ uint8_t *der = NULL;
        uint8_t digest[AT_SHA256_SIZE];
        size_t size;

        ASSERT_OK(at_rsa_public_to_base64(key, &b64));
        ASSERT_OK(at_base64_decode(b64, strlen(b64), 4096, &der, &size));
        ASSERT_OK(at_sha256(der, size, digest));
        ASSERT_OK(at_hex_encode(digest, sizeof(digest), &hex));
        ASSERT_TRUE(strneq(hex, expected, 16));
}

/* the private key signs what the public key (from its own field) verifies */
static void check_pair(const AtRsaPrivate *priv, const AtRsaPublic *pub) {
        _cleanup_(at_rsa_public_freep) AtRsaPublic *derived = NULL;
        _cleanup_free_ char *sig = NULL, *a = NULL, *b = NULL;

        ASSERT_OK(at_rsa_sign(priv, AT_HASH_SHA256, "challenge", 9, &sig));
        ASSERT_OK(at_rsa_verify(pub, AT_HASH_SHA256, "challenge", 9, sig));
        ASSERT_OK(at_rsa_private_get_public(priv, &derived));
        ASSERT_OK(at_rsa_public_to_base64(derived, &a));
        ASSERT_OK(at_rsa_public_to_base64(pub, &b));
        ASSERT_STREQ(a, b);
}

static void check_aes_key(const uint8_t *key, const char *expected_b64) {
        _cleanup_free_ char *b64 = NULL;

        ASSERT_TRUE(key);
        ASSERT_OK(at_base64_encode(key, AT_AES_KEY_SIZE, &b64));
        ASSERT_STREQ(b64, expected_b64);
}

TEST(loads_upstream_legacy_file) {
        _cleanup_(at_keys_freep) AtKeys *keys = NULL;

        ASSERT_OK(at_keys_parse(LEGACY_FILE, strlen(LEGACY_FILE), &keys));
        ASSERT_STREQ(keys->atsign, "@resultingantarmahal7");
        ASSERT_TRUE(keys->apkam_symmetric_key == NULL);
        ASSERT_TRUE(keys->enrollment_id == NULL);
        check_aes_key(keys->self_encryption_key, "uBcd6mFqVvDRve+KkErbLTRY/9vrVN+EbbYe1NhP3oY=");
        check_fingerprint(keys->pkam_public, "668127f32e5c26cd");
        check_fingerprint(keys->encrypt_public, "36fcb7e60c839768");
        check_pair(keys->pkam_private, keys->pkam_public);
        check_pair(keys->encrypt_private, keys->encrypt_public);
}

/* Jansson's blocks as they are freed: none may still hold the self encryption key's text */
static int freed_with_secret;

static void checking_free(void *p) {
        if (p && memmem(p, malloc_usable_size(p), "uBcd6mFqVvDRve+KkErbLTRY", 24))
                freed_with_secret++;
        free(p);
}

TEST(parse_leaves_no_secret_in_freed_json) {
        _cleanup_(at_keys_freep) AtKeys *keys = NULL;

        json_set_alloc_funcs(malloc, checking_free);
        freed_with_secret = 0;
        ASSERT_OK(at_keys_parse(LEGACY_FILE, strlen(LEGACY_FILE), &keys));
        ASSERT_TRUE(freed_with_secret == 0);
        /* a refused document too */
        const char *partial = "{\"selfEncryptionKey\":\"uBcd6mFqVvDRve+KkErbLTRY/9vrVN+EbbYe1NhP3oY=\"}";
        at_keys_free(TAKE_PTR(keys));
        ASSERT_FAIL(at_keys_parse(partial, strlen(partial), &keys));
        ASSERT_TRUE(freed_with_secret == 0);
        json_set_alloc_funcs(malloc, free);
}

TEST(formats_legacy_file_byte_for_byte) {
        _cleanup_(at_keys_freep) AtKeys *keys = NULL;
        _cleanup_secure_ char *text = NULL;

        /* same field order as at_onboarding_cli wrote it, same encodings, same zero-IV ciphertexts */
        ASSERT_OK(at_keys_parse(LEGACY_FILE, strlen(LEGACY_FILE), &keys));
        ASSERT_OK(at_keys_format(keys, &text));
        ASSERT_STREQ(text, LEGACY_FILE);
}

TEST(loads_upstream_apkam_file) {
        _cleanup_(at_keys_freep) AtKeys *keys = NULL, *again = NULL;
        _cleanup_secure_ char *text = NULL;
        _cleanup_free_ char *a = NULL, *b = NULL;

        ASSERT_OK(at_keys_parse(APKAM_FILE, strlen(APKAM_FILE), &keys));
        ASSERT_STREQ(keys->atsign, "@alice\xf0\x9f\x9b\xa0");
        ASSERT_STREQ(keys->enrollment_id, "352b78c8-4b6f-4d07-a9cf-5466512ffa44");
        check_aes_key(keys->self_encryption_key, "UaQFluEFmCwC3mq/BzE8dKotSY1YUJwMIFVeaSycNGA=");
        check_aes_key(keys->apkam_symmetric_key, "WCxZ+tRsKktQM3YpNb5vT4Q/9lIGxfUmQSJEVnedZSI=");
        check_fingerprint(keys->pkam_public, "8e107fb35419642a");
        check_fingerprint(keys->encrypt_public, "666faa6c470cd285");
        check_pair(keys->pkam_private, keys->pkam_public);
        check_pair(keys->encrypt_private, keys->encrypt_public);

        /* written and read back: the same fields */
        ASSERT_OK(at_keys_format(keys, &text));
        ASSERT_OK(at_keys_parse(text, strlen(text), &again));
        ASSERT_STREQ(again->atsign, keys->atsign);
        ASSERT_STREQ(again->enrollment_id, keys->enrollment_id);
        ASSERT_MEMEQ(again->apkam_symmetric_key, keys->apkam_symmetric_key, AT_AES_KEY_SIZE);
        ASSERT_OK(at_rsa_public_to_base64(again->encrypt_public, &a));
        ASSERT_OK(at_rsa_public_to_base64(keys->encrypt_public, &b));
        ASSERT_STREQ(a, b);
        /* every field of the upstream file is kept with the same value */
        json_t *orig = json_loads(APKAM_FILE, 0, NULL), *mine = json_loads(text, 0, NULL);
        ASSERT_TRUE(orig && mine);
        ASSERT_TRUE(json_equal(orig, mine));
        json_decref(orig);
        json_decref(mine);
}

static AtKeys *generated_keys(void) {
        AtKeys *keys = at_keys_new();

        ASSERT_TRUE(keys);
        ASSERT_OK(at_rsa_generate(2048, &keys->pkam_private));
        ASSERT_OK(at_rsa_private_get_public(keys->pkam_private, &keys->pkam_public));
        ASSERT_OK(at_rsa_generate(2048, &keys->encrypt_private));
        ASSERT_OK(at_rsa_private_get_public(keys->encrypt_private, &keys->encrypt_public));
        keys->self_encryption_key = at_secure_alloc(AT_AES_KEY_SIZE);
        keys->apkam_symmetric_key = at_secure_alloc(AT_AES_KEY_SIZE);
        ASSERT_TRUE(keys->self_encryption_key && keys->apkam_symmetric_key);
        at_random_bytes(keys->self_encryption_key, AT_AES_KEY_SIZE);
        at_random_bytes(keys->apkam_symmetric_key, AT_AES_KEY_SIZE);
        keys->atsign = strdup("@bob");
        keys->enrollment_id = strdup("0bdcf1d9-5b0a-4a39-9f3a-000000000001");
        return keys;
}

TEST(save_is_0600_atomic_and_refuses_overwrite) {
        _cleanup_(at_keys_freep) AtKeys *keys = generated_keys(), *loaded = NULL, *legacy = NULL;
        _cleanup_free_ char *path = NULL, *a = NULL, *b = NULL;
        _cleanup_secure_ char *pa = NULL, *pb = NULL;
        struct stat st;

        ASSERT_TRUE(asprintf(&path, "%s/home/.atsign/keys/@bob_key.atKeys", dir) > 0);
        ASSERT_OK(at_keys_save(keys, path, false)); /* creates the missing directories */
        ASSERT_OK(stat(path, &st));
        ASSERT_TRUE((st.st_mode & 0777) == 0600);

        ASSERT_OK(at_keys_load(path, &loaded));
        ASSERT_STREQ(loaded->atsign, "@bob");
        ASSERT_STREQ(loaded->enrollment_id, keys->enrollment_id);
        ASSERT_MEMEQ(loaded->self_encryption_key, keys->self_encryption_key, AT_AES_KEY_SIZE);
        ASSERT_MEMEQ(loaded->apkam_symmetric_key, keys->apkam_symmetric_key, AT_AES_KEY_SIZE);
        ASSERT_OK(at_rsa_private_to_base64(loaded->pkam_private, &pa));
        ASSERT_OK(at_rsa_private_to_base64(keys->pkam_private, &pb));
        ASSERT_STREQ(pa, pb);
        ASSERT_OK(at_rsa_public_to_base64(loaded->encrypt_public, &a));
        ASSERT_OK(at_rsa_public_to_base64(keys->encrypt_public, &b));
        ASSERT_STREQ(a, b);
        check_pair(loaded->encrypt_private, loaded->encrypt_public);

        /* an existing file is kept unless replacing is asked for */
        ASSERT_OK(at_keys_parse(LEGACY_FILE, strlen(LEGACY_FILE), &legacy));
        ASSERT_ERR(at_keys_save(legacy, path, false), -EEXIST);
        at_keys_free(loaded);
        ASSERT_OK(at_keys_load(path, &loaded));
        ASSERT_STREQ(loaded->atsign, "@bob");
        ASSERT_OK(at_keys_save(legacy, path, true));
        at_keys_free(loaded);
        ASSERT_OK(at_keys_load(path, &loaded));
        ASSERT_STREQ(loaded->atsign, "@resultingantarmahal7");
        ASSERT_OK(stat(path, &st));
        ASSERT_TRUE((st.st_mode & 0777) == 0600);
}

TEST(format_refuses_incomplete_keys) {
        _cleanup_(at_keys_freep) AtKeys *keys = NULL;
        char *text = NULL;

        ASSERT_OK(at_keys_parse(LEGACY_FILE, strlen(LEGACY_FILE), &keys));
        free(keys->atsign);
        keys->atsign = strdup("@bad\"name");
        ASSERT_ERR(at_keys_format(keys, &text), -EINVAL);
        free(keys->atsign);
        keys->atsign = NULL;
        keys->enrollment_id = strdup("id:with:colons");
        ASSERT_ERR(at_keys_format(keys, &text), -EINVAL);
        free(keys->enrollment_id);
        keys->enrollment_id = NULL;
        at_rsa_private_free(keys->pkam_private);
        keys->pkam_private = NULL;
        ASSERT_ERR(at_keys_format(keys, &text), -EINVAL);
        ASSERT_TRUE(text == NULL);
}

/* Returns the legacy file with one field changed (value NULL: removed). */
static char *legacy_with(const char *field, json_t *value) {
        json_t *root = json_loads(LEGACY_FILE, 0, NULL);
        char *s;

        ASSERT_TRUE(root);
        if (value)
                ASSERT_OK(json_object_set_new(root, field, value));
        else
                ASSERT_OK(json_object_del(root, field));
        s = json_dumps(root, JSON_COMPACT);
        json_decref(root);
        ASSERT_TRUE(s);
        return s;
}

static void check_refused(char *text, int expected) {
        AtKeys *keys = NULL;

        ASSERT_ERR(at_keys_parse(text, strlen(text), &keys), expected);
        ASSERT_TRUE(keys == NULL);
        free(text);
}

TEST(refuses_missing_and_mistyped_fields) {
        static const char *required[] = {
                "aesPkamPublicKey", "aesPkamPrivateKey", "aesEncryptPublicKey", "aesEncryptPrivateKey", "selfEncryptionKey",
        };
        json_t *legacy = json_loads(LEGACY_FILE, 0, NULL);

        ASSERT_TRUE(legacy);
        for (size_t i = 0; i < ELEMENTSOF(required); i++) {
                fprintf(stderr, "   field %s\n", required[i]);
                check_refused(legacy_with(required[i], NULL), -EBADMSG);
                check_refused(legacy_with(required[i], json_integer(1)), -EBADMSG);
                check_refused(legacy_with(required[i], json_null()), -EBADMSG);
                check_refused(legacy_with(required[i], json_object()), -EBADMSG);
                check_refused(legacy_with(required[i], json_string("")), -EBADMSG);
                check_refused(legacy_with(required[i], json_string("not base64!")), -EBADMSG);
        }
        /* keys in the wrong fields */
        json_t *priv = json_object_get(legacy, "aesPkamPrivateKey"), *pub = json_object_get(legacy, "aesPkamPublicKey");
        check_refused(legacy_with("aesPkamPublicKey", json_copy(priv)), -EBADMSG);
        check_refused(legacy_with("aesEncryptPrivateKey", json_copy(pub)), -EBADMSG);
        /* another self encryption key: nothing decrypts */
        check_refused(legacy_with("selfEncryptionKey", json_string("1DPU9OP3CYvamnVBMwGgL7fm8yB1klAap0Uc5Z9R79g=")), -EBADMSG);
        /* AES keys of the wrong size */
        check_refused(legacy_with("selfEncryptionKey", json_string("AAAAAAAAAAAAAAAAAAAAAA==")), -EBADMSG);
        check_refused(legacy_with("apkamSymmetricKey", json_string("AAAAAAAAAAAAAAAAAAAAAA==")), -EBADMSG);
        check_refused(legacy_with("apkamSymmetricKey", json_true()), -EBADMSG);
        /* enrollment ids that would break the pkam command */
        check_refused(legacy_with("enrollmentId", json_string("a:b")), -EBADMSG);
        check_refused(legacy_with("enrollmentId", json_string("")), -EBADMSG);
        check_refused(legacy_with("enrollmentId", json_integer(5)), -EBADMSG);
        json_decref(legacy);

        /* unknown fields (at_auth's typed documents) are ignored; its "atsign" names the atSign */
        _cleanup_(at_keys_freep) AtKeys *keys = NULL;
        _cleanup_free_ char *typed = legacy_with("enrollments", json_array());
        json_t *root = json_loads(typed, 0, NULL);
        json_object_set_new(root, "version", json_integer(1));
        json_object_set_new(root, "atsign", json_string("@typed"));
        free(typed);
        typed = json_dumps(root, JSON_COMPACT);
        json_decref(root);
        ASSERT_OK(at_keys_parse(typed, strlen(typed), &keys));
        ASSERT_STREQ(keys->atsign, "@typed");
}

TEST(refuses_garbage_documents) {
        AtKeys *keys = NULL;

        ASSERT_ERR(at_keys_parse("", 0, &keys), -EBADMSG);
        ASSERT_ERR(at_keys_parse("not json", 8, &keys), -EBADMSG);
        ASSERT_ERR(at_keys_parse("[]", 2, &keys), -EBADMSG);
        ASSERT_ERR(at_keys_parse("\"x\"", 3, &keys), -EBADMSG);
        ASSERT_ERR(at_keys_parse("{}", 2, &keys), -EBADMSG);
        ASSERT_ERR(at_keys_parse(LEGACY_FILE, strlen(LEGACY_FILE) - 1, &keys), -EBADMSG); /* truncated */
        /* a passphrase-protected file (at_auth AtKeysCrypto) */
        static const char envelope[] = "{\"content\":\"AAAA\",\"iv\":\"AAAA\",\"hashingAlgoType\":\"argon2id\"}";
        ASSERT_ERR(at_keys_parse(envelope, strlen(envelope), &keys), -EPROTONOSUPPORT);
        /* a field given twice */
        _cleanup_free_ char *dup = NULL;
        ASSERT_TRUE(asprintf(&dup, "{\"selfEncryptionKey\":\"AAAA\",%s", &LEGACY_FILE[1]) > 0);
        ASSERT_ERR(at_keys_parse(dup, strlen(dup), &keys), -EBADMSG);
        /* larger than any real file */
        size_t n = AT_KEYS_FILE_MAX_SIZE + 1;
        _cleanup_free_ char *big = malloc(n);
        ASSERT_TRUE(big);
        memset(big, ' ', n);
        memcpy(big, LEGACY_FILE, strlen(LEGACY_FILE));
        ASSERT_ERR(at_keys_parse(big, n, &keys), -EFBIG);
        ASSERT_TRUE(keys == NULL);
}

TEST(load_reports_file_errors) {
        _cleanup_free_ char *path = NULL, *big = NULL;
        AtKeys *keys = NULL;

        ASSERT_TRUE(asprintf(&path, "%s/missing.atKeys", dir) > 0);
        ASSERT_ERR(at_keys_load(path, &keys), -ENOENT);
        free(path);
        ASSERT_TRUE(asprintf(&path, "%s/big.atKeys", dir) > 0);
        big = calloc(1, AT_KEYS_FILE_MAX_SIZE + 10);
        ASSERT_TRUE(big);
        ASSERT_OK(write_file_atomic(path, big, AT_KEYS_FILE_MAX_SIZE + 10, 0600, true));
        ASSERT_ERR(at_keys_load(path, &keys), -EFBIG);
        ASSERT_TRUE(keys == NULL);
}

TEST(default_path) {
        _cleanup_free_ char *p1 = NULL, *p2 = NULL, *p3 = NULL;
        char *p = NULL;

        ASSERT_OK(setenv("HOME", "/home/tester", 1));
        ASSERT_OK(at_keys_default_path("alice", &p1));
        ASSERT_STREQ(p1, "/home/tester/.atsign/keys/@alice_key.atKeys");
        ASSERT_OK(at_keys_default_path("@alice", &p2));
        ASSERT_STREQ(p2, p1);
        ASSERT_ERR(at_keys_default_path("../etc", &p), -EINVAL);
        ASSERT_ERR(at_keys_default_path("a/b", &p), -EINVAL);
        ASSERT_ERR(at_keys_default_path("", &p), -EINVAL);
        /* without HOME, the passwd entry */
        ASSERT_OK(unsetenv("HOME"));
        ASSERT_OK(at_keys_default_path("@alice", &p3));
        ASSERT_TRUE(p3[0] == '/');
        ASSERT_TRUE(strstr(p3, "/.atsign/keys/@alice_key.atKeys"));
}

int main(void) {
        ASSERT_OK(at_secure_init());
        ASSERT_TRUE(mkdtemp(dir));
        RUN(loads_upstream_legacy_file);
        RUN(parse_leaves_no_secret_in_freed_json);
        RUN(formats_legacy_file_byte_for_byte);
        RUN(loads_upstream_apkam_file);
        RUN(save_is_0600_atomic_and_refuses_overwrite);
        RUN(format_refuses_incomplete_keys);
        RUN(refuses_missing_and_mistyped_fields);
        RUN(refuses_garbage_documents);
        RUN(load_reports_file_errors);
        RUN(default_path);
        /* best-effort cleanup of what the tests wrote */
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "rm -rf '%s'", dir) > 0 && system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", dir);
        return 0;
}
